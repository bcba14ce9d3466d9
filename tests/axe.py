"""axe-core in the page under test: the accessibility rules a browser test can check.

axe-core comes from npm (package.json at the repository root; `make test` runs `npm ci`); it is
loaded into the page only by the tests, never served to riders.
"""

from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def violations(page, exclude=(), impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations on the page as it is now, of these impacts: each with its rule id,
    help text and the selectors of the offending nodes. exclude: CSS selectors left out."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make test` (it runs `npm ci`)")
    # Not add_script_tag: an inline <script> the pages' Content-Security-Policy would refuse;
    # evaluated through the debugging protocol, which the policy does not govern.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { include: [document], exclude: exclude.map(s => [s]) } : document;
            const result = await axe.run(context, { resultTypes: ["violations"] });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        list(exclude),
    )
    return [v for v in found if v["impact"] in impacts]
