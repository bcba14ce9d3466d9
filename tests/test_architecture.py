"""The layering rules hold: the import contracts in pyproject.toml (lint-imports, also run by
`make test`) and no import cycle anywhere in `stations`. Each check is shown able to fail on a
copy of the package with a violation planted in it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under root, with root's pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )


def test_the_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def cycles(graph) -> list[list[str]]:
    """Every import cycle between modules of the graph, one per strongly connected component,
    each as a path [a, b, …, a] (Tarjan's algorithm, iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append(
                        (other, iter(sorted(graph.find_modules_directly_imported_by(other))))
                    )
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in graph.find_modules_directly_imported_by(
                        module
                    ):
                        components.append(set(component))
    return [_a_cycle_through(graph, sorted(c)[0], c) for c in components]


def _a_cycle_through(graph, first: str, members: set[str]) -> list[str]:
    """The shortest path from first back to itself inside one strongly connected component."""
    came_from: dict[str, str] = {}
    frontier = [first]
    while frontier:
        following = []
        for module in frontier:
            for other in sorted(graph.find_modules_directly_imported_by(module) & members):
                if other == first:
                    path = [module]
                    while path[-1] != first:
                        path.append(came_from[path[-1]])
                    return [first, *reversed(path[:-1]), first]
                if other not in came_from:
                    came_from[other] = module
                    following.append(other)
        frontier = following
    raise AssertionError(f"no cycle through {first}")


def _describe(graph, cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        for detail in graph.get_import_details(importer=importer, imported=imported):
            lines.append(f"    {importer}:{detail['line_number']}  {detail['line_contents']}")
    return "\n".join(lines)


def test_no_import_cycles_in_stations():
    graph = grimp.build_graph("stations", exclude_type_checking_imports=True, cache_dir=None)
    assert len(graph.modules) > 40  # the whole package was read
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_describe(graph, c) for c in found)


def test_the_cycle_finder_finds_planted_cycles():
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("p.a", "p.b"),
        ("p.b", "p.c"),
        ("p.c", "p.a"),  # a -> b -> c -> a
        ("p.d", "p.a"),  # leads into the cycle, not part of it
        ("p.e", "p.e"),  # imports itself
        ("p.f", "p.g"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    assert sorted(cycles(graph)) == [["p.a", "p.b", "p.c", "p.a"], ["p.e", "p.e"]]
    graph.remove_import(importer="p.c", imported="p.a")
    assert cycles(graph) == [["p.e", "p.e"]]


def test_the_core_imports_no_web_framework_at_all():
    """Wider than the contract's list: any flask_* extension added later is caught too."""
    graph = grimp.build_graph("stations", include_external_packages=True, cache_dir=None)
    offending = {
        (module, imported)
        for module in graph.find_children("stations.core") | {"stations.core"}
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0].startswith(("flask", "werkzeug", "sqlite"))
    }
    assert not offending


# -- each contract can fail ------------------------------------------------------------------


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory) -> Path:
    """A pristine copy of the package and its pyproject.toml, for planting violations."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        ROOT / "stations", root / "stations", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


CORE = "The core is pure Python: no web framework, no SQL, nothing above it"
STORE = "The store speaks no HTTP"
SQL = "The store is the only SQL: faces reach the database through it"
FACES = "Faces are independent of one another"
SHARED = "Shared web infrastructure serves the faces and imports none of them"
LAYERS = "Layers: faces above the store above the core"


@pytest.mark.parametrize(
    "module, line, broken",
    [
        ("core/navigation.py", "import flask", {CORE}),
        # the store uses core.geo (BBox): a web import there reaches the store too
        ("core/geo.py", "import flask", {CORE, STORE}),
        ("core/text.py", "import sqlite3", {CORE}),
        ("core/knn.py", "import psycopg", {CORE}),
        ("core/model.py", "from stations.store import open_store", {CORE, LAYERS}),
        ("store/sqlite/rows.py", "from werkzeug.exceptions import NotFound", {STORE}),
        ("store/sqlite/rows.py", "from stations.web import context", {STORE, LAYERS}),
        ("cli.py", "import sqlite3", {SQL}),
        ("web/health.py", "import psycopg", {SQL}),
        ("store/postgis/rows.py", "from werkzeug.exceptions import NotFound", {STORE}),
        ("web/admin/quality.py", "import sqlite_utils", {SQL}),
        ("web/embed.py", "from stations.web import public", {FACES}),
        ("cli.py", "from stations.web.api import partners", {FACES, LAYERS}),
        ("web/params.py", "from stations.web.admin import base", {SHARED, FACES}),
    ],
)
def test_each_contract_can_fail(copy_root, module, line, broken):
    path = copy_root / "stations" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}\n", encoding="utf-8")
    try:
        result = _lint_imports(copy_root)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    found = {
        name
        for name in (CORE, STORE, SQL, FACES, SHARED, LAYERS)
        if f"{name} BROKEN" in result.stdout
    }
    assert found == broken, result.stdout


def test_type_checking_imports_are_not_dependencies(copy_root):
    path = copy_root / "stations" / "core" / "locator.py"
    original = path.read_text(encoding="utf-8")
    planted = "\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from stations.store import Store\n"
    path.write_text(original + planted, encoding="utf-8")
    try:
        result = _lint_imports(copy_root)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 0, result.stdout
