"""The staff figures agree everywhere: on a hand-made registry the core's figures, the dashboard's
cells and chart, the due list and the district export all give the numbers worked out by hand
below. Also the station and due lists' paging, filters and sorting, and labels in exports."""

import csv
import io
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
import test_browser
from staff_helpers import make_users, signed_in, staff_app_for

from stations.core import compliance, staff_tables
from stations.core.audits import Audit, AuditItem
from stations.core.hours import TZ
from stations.core.model import validate

from conftest import STORE_KINDS

browser, server = test_browser.browser, test_browser.server  # the phone test's fixtures

NOW = "2026-11-20T08:00:00+08:00"
MOMENT = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # the clock fixture's Friday 10:00
INTERVAL = timedelta(days=180)
CHENGZHONG = (36.6171, 101.7782)  # 西宁市城中区 630103
CHENGDONG = (36.6092, 101.8170)  # 西宁市城东区 630102


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


def _at(place, n):
    return round(place[0] + n * 0.0004, 7), place[1]


def _station(code, name, place, n, status="open"):
    lat, lon = _at(place, n)
    until = {"closed_until": "2026-12-01"} if status == "temporarily_closed" else {}
    return validate(
        {"code": code, "name": name, "lat": lat, "lon": lon, "status": status, **until},
        now=datetime(2026, 11, 20, 8, tzinfo=TZ),
    )


# The registry, and what each station counts for on 2026-11-20 with a 180-day interval:
#   城中区 630103
#     A1 open, passed 2026-10-01, a report from 11-15 (overdue)    audited, compliant
#     A2 open, failed 2026-09-01, first aid kit expired 10-31      audited, expired
#     A3 temporarily closed, never audited                          due
#     A4 planned, never audited                                     not counted
#     A5 closed, failed 2025-01-10, a fresh report                  only its report counts
#   城东区 630102
#     B1 open, passed 2025-12-01 (older than 180 days)              due
#     B2 open, passed 2026-11-01, three reports (two overdue)       audited, compliant, due
#     B3 closed, never audited                                      not counted
EXPECTED = {
    # adcode: (stations, audited, compliant, due, open reports, overdue, expired, share %, compliance %)
    "630102": (2, 1, 1, 2, 3, 2, 0, 50, 100),
    "630103": (3, 2, 1, 1, 2, 1, 1, 67, 50),
}
TOTAL = (5, 3, 2, 3, 5, 3, 1, 60, 67)
DUE = {"B1", "B2", "A3"}


@pytest.fixture
def registry(store):
    """The registry above; station ids by code."""
    make_users(store)
    user = store.user_login("xn-auditor")[0]
    stations = [
        _station("A1", "城中甲站", CHENGZHONG, 0),
        _station("A2", "城中乙站", CHENGZHONG, 1),
        _station("A3", "城中丙站", CHENGZHONG, 2, "temporarily_closed"),
        _station("A4", "城中丁站", CHENGZHONG, 3, "planned"),
        _station("A5", "城中戊站", CHENGZHONG, 4, "closed"),
        _station("B1", "城东甲站", CHENGDONG, 0),
        _station("B2", "城东乙站", CHENGDONG, 1),
        _station("B3", "城东丙站", CHENGDONG, 2, "closed"),
    ]
    store.save_many(stations, [], NOW)
    ids = {code: s.id for code, s in store.by_codes(s.code for s in stations).items()}
    assert {s.adcode for s in store.by_codes(["A1", "B1"]).values()} == {"630103", "630102"}

    def audit(code, visited_on, passed, items=(), profile="siyou"):
        with store.transaction():
            store.add_audit(
                Audit(
                    ids[code],
                    user.id,
                    profile,
                    visited_on,
                    "scheduled",
                    1.0 if passed else 0.5,
                    passed,
                    NOW,
                ),
                list(items)
                or [AuditItem("sign", "pass" if passed else "fail", "" if passed else "没有标识")],
            )

    audit("A1", "2026-10-01", True)
    audit(
        "A2",
        "2026-09-01",
        False,
        [
            AuditItem("microwave", "fail", "微波炉坏了"),
            AuditItem("first_aid_kit", "pass", "", "2026-10-31"),
        ],
        profile="qigeyi_guizhou",
    )
    audit("A5", "2025-01-10", False)
    audit("B1", "2025-12-01", True)
    audit("B2", "2026-11-01", True)
    for code, hash_, at in [
        ("A1", "d1", "2026-11-15T09:00:00+08:00"),
        ("A5", "d2", "2026-11-20T09:00:00+08:00"),
        ("B2", "d3", "2026-11-16T09:00:00+08:00"),
        ("B2", "d4", "2026-11-16T10:00:00+08:00"),
        ("B2", "d5", "2026-11-20T09:30:00+08:00"),
    ]:
        store.add_checkin(ids[code], "locked", None, hash_, at, False)
    return ids


@pytest.fixture
def staff_app(registry, database_url, clock, tmp_path):
    return staff_app_for(database_url, clock, tmp_path)


@pytest.fixture
def xn(staff_app):
    return signed_in(staff_app, "xn-auditor")


class Tables(HTMLParser):
    """Tables by id (rows of cell texts, header rows included) and the chart's bars."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.bars: dict[str, dict] = {}
        self._table = self._cell = self._bar = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._text = True, ""
        elif tag == "g" and a.get("class") == "bar":
            self._bar = self.bars.setdefault(a["data-adcode"], {})
        elif tag == "rect" and self._bar is not None:
            self._bar["width"] = float(a["width"])
        elif tag == "text" and self._bar is not None:
            self._bar["_text"] = a.get("class")
            self._text = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell:
            self._table[-1].append(" ".join(self._text.split()))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "text" and self._bar is not None:
            self._bar[self._bar.pop("_text")] = self._text.strip()
        elif tag == "g":
            self._bar = None

    def handle_data(self, data):
        self._text += data


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _as_cells(figures: tuple) -> list[str]:
    stations, audited, _compliant, due, reports, overdue, expired, share, compliance_ = figures
    return [
        str(stations),
        f"{share}%",
        f"{compliance_}%",
        str(due),
        str(reports),
        str(overdue),
        str(expired),
    ]


# -- the core ----------------------------------------------------------------------------------


def test_core_figures_on_the_hand_made_registry(store, registry):
    figs = compliance.figures(store, "6301", MOMENT, INTERVAL)
    got = {
        r.adcode: (
            r.stations,
            r.audited,
            r.compliant,
            r.due,
            r.open_reports,
            r.overdue_reports,
            r.expired,
            compliance.percent(r.audited_share),
            compliance.percent(r.compliance),
        )
        for r in figs.districts
    }
    assert got == EXPECTED
    t = figs.total
    assert (
        t.stations,
        t.audited,
        t.compliant,
        t.due,
        t.open_reports,
        t.overdue_reports,
        t.expired,
        compliance.percent(t.audited_share),
        compliance.percent(t.compliance),
    ) == TOTAL
    assert {f.station.code for f in figs.due} == DUE
    assert [r.district for r in figs.districts] == ["西宁市城东区", "西宁市城中区"]
    # planned and closed stations are in no figure but the report counts
    assert {f.station.code for f in figs.stations} == {"A1", "A2", "A3", "B1", "B2"}
    # A1 (visited 2026-10-01) turns due once 180 days have passed, on 2027-03-30
    later = compliance.figures(store, "6301", datetime(2027, 3, 30, 10, tzinfo=TZ), INTERVAL)
    assert "A1" in {f.station.code for f in later.due}


def test_due_list_sorts_and_filters(store, registry):
    figs = compliance.figures(store, "6301", MOMENT, INTERVAL)

    def codes(**kw):
        return [f.station.code for f in staff_tables.due_list(figs, **kw)]

    assert codes() == ["A3", "B1", "B2"]  # never audited, then the oldest audit
    assert codes(descending=True) == ["B2", "B1", "A3"]
    assert codes(sort="reports", descending=True) == ["B2", "A3", "B1"]  # ties by code
    assert codes(sort="district") == ["B2", "B1", "A3"]  # 630102 first, then by name
    assert codes(sort="name") == ["B2", "B1", "A3"]  # code points: 东 < 中, 乙 < 甲
    assert codes(adcode="630103") == ["A3"]
    with pytest.raises(ValueError):
        codes(sort="nope")


def test_paging_arithmetic():
    assert staff_tables.page_of(420, 2, 100) == staff_tables.Page(2, 5, 420, 100)
    assert staff_tables.page_of(420, 9, 100).number == 5  # past the end: the last page
    assert staff_tables.page_of(0, 3).pages == 1 and staff_tables.page_of(0, 3).number == 1
    assert staff_tables.page_of(101, 2, 100).offset == 100


# -- the pages and exports ---------------------------------------------------------------------


def test_dashboard_cells_and_chart(xn):
    html = page(xn.get("/admin/"))
    table = Tables(html).tables["districts"]
    assert table[0] == staff_tables.district_headers("zh")
    body, total = table[1:-1], table[-1]
    assert [row[:2] for row in body] == [["630102", "西宁市城东区"], ["630103", "西宁市城中区"]]
    for row in body:
        assert row[2:] == _as_cells(EXPECTED[row[0]])
    assert total == ["合计"] + _as_cells(TOTAL)
    bars = Tables(html).bars
    assert bars == {
        "630102": {"width": 400.0, "bar-label": "西宁市城东区", "bar-value": "100%"},
        "630103": {"width": 200.0, "bar-label": "西宁市城中区", "bar-value": "50%"},
    }
    assert "筹建中和已关闭的站点不计" in html  # the footnote says what is counted


def test_dashboard_in_english_labels_every_column(xn):
    html = page(xn.get("/admin/?lang=en"))
    table = Tables(html).tables["districts"]
    assert table[0] == [
        "Division code",
        "District",
        "Stations",
        "Audited this cycle (%)",
        "Compliance (%)",
        "Due for audit",
        "Open reports",
        "Overdue reports",
        "Stations with expired items",
    ]
    assert table[-1][0] == "Total" and "planned and closed stations are left out" in html
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(table[0]))


def test_due_list_page_agrees_with_the_dashboard(xn):
    html = page(xn.get("/admin/due"))
    rows = Tables(html).tables["due"][1:]
    assert [r[0] for r in rows] == ["城中丙站", "城东甲站", "城东乙站"]
    assert rows[0][2] == "从未" and rows[1][2] == "2025年12月1日" and rows[2][2] == "11月1日"
    assert [r[3] for r in rows] == ["0", "0", "3"]
    assert "共 3 个站点待核查" in html and "第 1 页，共 1 页" in html
    only = Tables(page(xn.get("/admin/due?district=630102&sort=reports&dir=desc"))).tables["due"]
    assert [r[0] for r in only[1:]] == ["城东乙站", "城东甲站"]
    # the dashboard's due cell links to the same list
    assert "/admin/due?district=630102" in page(xn.get("/admin/"))


BAD_PARAMETERS = [
    ("sort=drop", "无法按“drop”排序"),
    ("dir=sideways", "排序方向应为 asc 或 desc"),
    ("page=x", "页码应为从 1 开始的整数"),
    ("page=-1", "页码应为从 1 开始的整数"),
    ("page=１２", "页码应为从 1 开始的整数"),
    ("district=63", "6 位行政区划代码"),
    ("page=1&page=2", "参数 page 只能给一次"),
    ("status=x", "未知状态：x"),
]


def test_bad_list_parameters_are_400_with_a_reason(xn):
    for path in ("/admin/due", "/admin/stations"):
        for query, reason in BAD_PARAMETERS:
            response = xn.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert reason in response.get_data(as_text=True), (path, query)
    # a district with no station is no error: nothing matches
    assert "没有符合条件的站点" in page(xn.get("/admin/stations?district=110101"))


def test_district_export_rows_equal_the_figures(xn):
    from openpyxl import load_workbook

    text = xn.get("/admin/export/districts.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    book = load_workbook(io.BytesIO(xn.get("/admin/export/districts.xlsx").data))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    expected = [staff_tables.district_headers("zh")]
    for adcode, name in (("630102", "西宁市城东区"), ("630103", "西宁市城中区")):
        s, _a, _c, due, rep, over, exp, share, comp = EXPECTED[adcode]
        expected.append([adcode, name, s, share, comp, due, rep, over, exp])
    s, _a, _c, due, rep, over, exp, share, comp = TOTAL
    expected.append([None, "合计", s, share, comp, due, rep, over, exp])
    assert sheet == expected
    assert rows == [[("" if v is None else str(v)) for v in r] for r in expected]
    english = list(
        csv.reader(
            io.StringIO(xn.get("/admin/export/districts.csv?lang=en").data.decode("utf-8-sig"))
        )
    )
    assert english[0][:3] == ["Division code", "District", "Stations"] and english[-1][1] == "Total"


def test_audit_export_labels_every_key_in_its_language(xn):
    from openpyxl import load_workbook

    text = xn.get("/admin/export/audits.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "站点编号",
        "站点名称",
        "区县",
        "标准",
        "核查日期",
        "方式",
        "核查员",
        "得分 (%)",
        "结论",
        "项目",
        "结果",
        "说明",
        "有效期至",
    ]
    a2 = [r for r in rows if r[0] == "A2"]
    assert [r[5] for r in a2] == ["计划核查", "计划核查"]
    assert {r[8] for r in a2} == {"未达标"} and [r[10] for r in a2] == ["不符合", "符合"]
    assert a2[0][4] == "2026-09-01" and a2[1][12] == "2026-10-31"  # sortable dates
    flat = " ".join(" ".join(r) for r in rows[1:])
    assert [r[3] for r in a2] == ["七个一（贵州）"] * 2
    assert [r[9] for r in a2] == ["一台微波炉", "一个应急药箱（配备常用药）"]
    for key in ("scheduled", "pass", "fail", "siyou", "qigeyi", "first_aid_kit", "microwave"):
        assert key not in flat
    book = load_workbook(io.BytesIO(xn.get("/admin/export/audits.xlsx").data))
    cells = [list(r) for r in book.active.iter_rows(values_only=True)]
    a2x = [r for r in cells if r[0] == "A2"]
    assert a2x[0][4] == datetime(2026, 9, 1) and a2x[1][12] == datetime(2026, 10, 31)
    assert book.active.cell(row=2, column=5).is_date
    en = list(
        csv.reader(io.StringIO(xn.get("/admin/export/audits.csv?lang=en").data.decode("utf-8-sig")))
    )
    a2en = [r for r in en if r[0] == "A2"]
    assert [r[5] for r in a2en] == ["Scheduled", "Scheduled"]
    assert [r[10] for r in a2en] == ["Fail", "Pass"] and a2en[0][8] == "Not passed"


# -- the station list --------------------------------------------------------------------------


def test_station_list_counts_pages_searches_filters_and_sorts(xn, staff_app, store):
    html = page(xn.get("/admin/stations"))
    rows = Tables(html).tables["stations"][1:]
    assert "共 8 个站点" in html and "第 1 页，共 1 页" in html
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # by name
    assert {r[3] for r in rows} >= {"筹建中", "已关闭", "开放", "暂停开放"}
    found = Tables(page(xn.get("/admin/stations?q=城东"))).tables["stations"][1:]
    assert [r[0] for r in found] == ["B3", "B2", "B1"]  # code points: 丙 < 乙 < 甲
    planned = page(xn.get("/admin/stations?status=planned"))
    assert [r[0] for r in Tables(planned).tables["stations"][1:]] == ["A4"]
    assert "共 1 个站点" in planned
    district = Tables(page(xn.get("/admin/stations?district=630102&sort=code&dir=desc")))
    assert [r[0] for r in district.tables["stations"][1:]] == ["B3", "B2", "B1"]
    assert "没有符合条件的站点" in page(xn.get("/admin/stations?q=nothing-like-it"))
    english = page(xn.get("/admin/stations?lang=en&status=temporarily_closed"))
    assert "Stations in all: 1 · Page 1 of 1" in english
    assert Tables(english).tables["stations"][1][3:] == ["Temporarily closed", "never"]
    assert Tables(english).tables["stations"][0] == [
        "Number",
        "Name ▲",
        "District",
        "Status",
        "Last verified",
    ]  # sorted by name, going up


def test_station_list_pages_of_fifty_keep_the_state(xn, store):
    more = [_station(f"C{n:03}", f"城中站{n:03}", CHENGZHONG, 10 + n) for n in range(100)]
    store.save_many(more, [], NOW)
    first = page(xn.get("/admin/stations?q=城中站&sort=code"))
    assert "共 100 个站点" in first and "第 1 页，共 2 页" in first
    rows = Tables(first).tables["stations"][1:]
    assert [r[0] for r in rows] == [f"C{n:03}" for n in range(50)]
    # the next link keeps the search and the sort
    assert (
        'href="/admin/stations?q=%E5%9F%8E%E4%B8%AD%E7%AB%99&amp;sort=code&amp;page=2" rel="next"'
        in first
    )
    second = page(xn.get("/admin/stations?q=城中站&sort=code&page=2"))
    assert [r[0] for r in Tables(second).tables["stations"][1:]][0] == "C050"
    assert 'rel="prev"' in second and 'rel="next"' not in second
    beyond = page(xn.get("/admin/stations?q=城中站&sort=code&page=9"))
    assert "第 2 页，共 2 页" in beyond  # past the end: the last page
    # sort links turn the direction of the column already sorted by
    assert (
        'href="/admin/stations?q=%E5%9F%8E%E4%B8%AD%E7%AB%99&amp;sort=code&amp;dir=desc"' in first
    )
    assert 'aria-sort="ascending"' in first


# -- on a phone --------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_staff_figures_pages_on_a_phone(browser, server, database_url, tmp_path):
    """On a 390 px phone nothing of the dashboard, station list or due list runs off-screen
    (wide tables scroll in their box), and one failing station shows at street level, not at
    20 m scale."""
    from urllib.parse import urlsplit

    from staff_helpers import PASSWORD
    from test_browser import PHONE, TILE_HOST, Phone, _shots_dir

    from stations.core.accounts import hash_password
    from stations.store import open_store

    with open_store(database_url) as store:  # the server fixture's database (Hefei)
        user_id = store.create_user(
            "hf-admin", hash_password(PASSWORD), "admin", "3401", "2026-11-01T00:00:00+08:00"
        )
        with store.transaction():
            store.add_audit(
                Audit(1, user_id, "siyou", date.today().isoformat(), "scheduled", 0.5, False, NOW),
                [AuditItem("sign", "fail", "没有标识")],
            )
    phone = Phone(browser, server)
    page = phone.open("/login?next=/admin/")
    page.fill('input[name="name"]', "hf-admin")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    # the failing station's dot is drawn (on a canvas), in the same run as the zoom is set
    page.wait_for_selector(".dash-map .leaflet-overlay-pane canvas", state="attached")
    zoom = page.evaluate(
        "window[JSON.parse(document.getElementById('yz-staff').textContent).map].getZoom()"
    )
    assert zoom == 16
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    table = page.locator("#districts").bounding_box()
    box = page.locator(".staff-dash .scroll").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert table["width"] > box["width"]  # the table scrolls inside its box
    page.screenshot(path=_shots_dir(tmp_path) / "staff-dashboard-phone.png", full_page=True)
    for path, row in (
        ("/admin/stations?q=驿站", "金寨路工会驿站"),
        ("/admin/due", "望江路爱心驿站"),
    ):
        page = phone.open(path)
        assert row in page.inner_text("tbody")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        search = page.locator(".list-filters button").bounding_box()
        assert search["x"] + search["width"] <= PHONE["width"] and search["height"] >= 40
    page.screenshot(path=_shots_dir(tmp_path) / "staff-due-phone.png", full_page=True)
    assert set(phone.hosts) <= {urlsplit(server).netloc, TILE_HOST}
    phone.close()
