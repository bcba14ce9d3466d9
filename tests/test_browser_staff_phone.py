"""The staff pages on a phone (390×844) in Debian's Chromium, as an admin: nothing runs off the
screen sideways, every control a thumb can hit (44 px), no table squeezed to a character a line,
the account and region cards say what each value is, the chart's words big enough to read and
the map's credit line clear of its scale bar."""

import pytest
from playwright.sync_api import expect
from staff_helpers import PASSWORD
from test_browser import PHONE, STATIONS, Phone, _shots_dir, browser, serve_stations  # noqa: F401

pytestmark = pytest.mark.browser

PAGES = {
    "dashboard": "/admin/",
    "stations": "/admin/stations",
    "due": "/admin/due",
    "station": "/admin/stations/1",
    "people": "/admin/people",
    "regions": "/admin/regions",
    "edit": "/admin/stations/1/edit",
    "audit": "/admin/stations/1/audit",
}


@pytest.fixture
def server(tmp_path, database_url):
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    yield from serve_stations(tmp_path, database_url, STATIONS, header)


def small_targets(page) -> list[dict]:
    """Every visible link, button, select and field in the staff nav and the page that is less
    than 44 px tall (a check box or radio counts by its label). Leaflet's credit line is text."""
    return page.eval_on_selector_all(
        ".staff-nav a, .staff-nav button, main a, main button, main select, main textarea,"
        " main input:not([type=hidden])",
        """els => els.filter(e => e.offsetParent !== null && e.getClientRects().length
                              && !e.closest('.leaflet-control-attribution')).map(e => {
            const box = (e.type === 'checkbox' || e.type === 'radio') && e.closest('label') || e;
            const r = box.getBoundingClientRect();
            return {tag: e.tagName, name: e.name || '', text: (e.textContent || e.value || '').trim().slice(0, 30), h: r.height};
        }).filter(b => b.h < 44)""",
    )


def squeezed_cells(page) -> list[dict]:
    """Table cells whose words stand a character or two a line: a short text running over more
    than two lines, or a text wrapped into a column narrower than two and a half characters."""
    return page.eval_on_selector_all(
        "table.grid td",
        """tds => tds.filter(td => td.offsetParent !== null).flatMap(td => {
            const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
            const found = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const text = n.textContent.trim();
                if (text.length < 2) continue;
                const range = document.createRange();
                range.selectNodeContents(n);
                const font = parseFloat(getComputedStyle(n.parentElement).fontSize);
                const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
                const width = range.getBoundingClientRect().width;
                if ((lines > 1 && width < 2.5 * font) || (text.length <= 20 && lines > 2))
                    found.push({text: text.slice(0, 30), lines, width});
            }
            return found;
        })""",
    )


def card_labels(page, selector: str) -> list[tuple[str, str]]:
    """(label shown before the value, the column's header) for every labelled cell of the first
    row of a table shown as cards."""
    return page.eval_on_selector(
        selector,
        """table => {
            const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
            return [...table.querySelectorAll('tbody tr:first-child td')].map((td, i) => {
                const before = getComputedStyle(td, '::before');
                const shown = before.display !== 'none' && before.content !== 'none' ? before.content : '';
                return [shown, heads[i]];
            });
        }""",
    )


def test_staff_pages_fit_a_phone(browser, server, database_url, tmp_path):  # noqa: F811
    from staff_helpers import make_users

    from stations.store import open_store

    with open_store(database_url) as store:
        make_users(store)
    shots = _shots_dir(tmp_path)
    phone = Phone(browser, server)
    page = phone.page
    phone.open("/login?next=/admin/stations/1")
    page.fill('input[name="name"]', "boss")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    # a history row with values before and after: the station's details confirmed
    page.click("button.confirm")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("table.grid.history tbody tr")).to_have_count(2)

    for name, path in PAGES.items():
        page.goto(server + path)
        page.wait_for_selector("main")
        if name in ("dashboard", "edit"):
            page.wait_for_selector(".leaflet-control-zoom-in")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        assert small_targets(page) == [], name
        assert squeezed_cells(page) == [], name
        page.screenshot(path=shots / f"staff-phone-{name}.png", full_page=True)

        if name == "stations":
            # the list runs past the screen: it scrolls in its own box, with a shadow on that edge
            box = page.locator("#stations").locator("xpath=..")
            assert box.evaluate("b => b.scrollWidth > b.clientWidth")
            images = box.evaluate("b => getComputedStyle(b).backgroundImage")
            assert images.count("gradient") == 4, images
        if name == "station":
            history = page.locator("table.grid.history")
            assert history.evaluate("t => getComputedStyle(t).overflowX") == "auto"
            when = history.locator("tbody tr td").first
            lines = when.evaluate(
                """td => { const r = document.createRange(); r.selectNodeContents(td);
                    return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"""
            )
            assert lines == 1, when.inner_text()  # "1 分钟前" on one line
        if name == "dashboard":
            # the chart's words 12 px tall or more on the screen
            sizes = page.eval_on_selector_all(
                "svg.chart text",
                "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().d)",
            )
            assert sizes and min(sizes) >= 12, sizes
            # labels and bars do not overlap
            overlaps = page.eval_on_selector_all(
                "svg.chart g.bar",
                """gs => gs.filter(g => g.querySelector('rect').getAttribute('width') > 0).filter(g => {
                    const label = g.querySelector('.bar-label').getBoundingClientRect();
                    const bar = g.querySelector('rect').getBoundingClientRect();
                    const value = g.querySelector('.bar-value').getBoundingClientRect();
                    return label.right > bar.left || bar.right > value.left
                        || value.right > g.ownerSVGElement.getBoundingClientRect().right;
                }).length""",
            )
            assert overlaps == 0
        if name == "people":
            labels = card_labels(page, "table.people")
            assert labels[0][0] == ""  # the name is the card's title
            assert [shown for shown, _ in labels[1:5]] == [f'"{head}："' for _, head in labels[1:5]]
            assert all(head for _, head in labels[1:5]), labels
        if name == "regions":
            labels = card_labels(page, "table.regions")
            assert [shown for shown, _ in labels[1:]] == [f'"{head}："' for _, head in labels[1:]]
            assert (
                page.locator("table.regions tbody tr").first.evaluate(
                    "tr => getComputedStyle(tr).display"
                )
                == "block"
            )
        if name == "edit":
            # the credit line and the scale bar side by side, not on top of each other
            credit = page.locator(".edit-map .leaflet-control-attribution").bounding_box()
            scale = page.locator(".edit-map .leaflet-control-scale").bounding_box()
            assert scale["x"] + scale["width"] <= credit["x"] or (
                scale["y"] + scale["height"] <= credit["y"]
            ), (credit, scale)

    # the public station page: the little map's zoom buttons are thumb-sized too
    page.goto(server + "/stations/1")
    page.wait_for_selector(".station-map .leaflet-control-zoom-in")
    for button in page.locator(".station-map .leaflet-control-zoom a").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    phone.close()


def test_english_dashboard_on_a_desk_fits_its_page(browser, server, database_url, tmp_path):  # noqa: F811
    from staff_helpers import make_users

    from stations.store import open_store

    with open_store(database_url) as store:
        make_users(store)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
    page = context.new_page()
    page.goto(server + "/login?next=/admin/%3Flang%3Den")
    page.fill('input[name="name"]', "boss")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.goto(server + "/admin/?lang=en")
    page.wait_for_selector("#districts")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    main = page.locator("main").bounding_box()
    table = page.locator("#districts").bounding_box()
    assert table["x"] + table["width"] <= main["x"] + main["width"] + 1, (table, main)
    assert small_targets(page) == []
    assert squeezed_cells(page) == []
    page.screenshot(path=_shots_dir(tmp_path) / "staff-desk-dashboard-en.png", full_page=True)
    context.close()
