"""The README is the newcomer's entry point: it must stay true to the code."""

import os
import re
import runpy
import sys
from pathlib import Path

from stations.cli import COMMANDS
from stations.core.vocab import FACILITIES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    head = "\n".join(README.splitlines()[:8])
    assert "make run" in head and "make test" in head


def test_every_cli_command_is_documented():
    for command in COMMANDS:
        assert f"flask --app app {command.name}" in README


def test_every_facility_is_documented():
    for term in FACILITIES.terms:
        assert f"{term.key} {term.zh}" in README


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci


def _configuration_table() -> set[str]:
    """The variables named in the first column of the README's configuration table."""
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


class _RecordingEnviron(dict):
    """os.environ that notes which names the given files ask for."""

    def __init__(self, files, values):
        super().__init__(values)
        self.files, self.asked = files, set()

    def _note(self, name):
        if sys._getframe(2).f_code.co_filename in self.files:
            self.asked.add(name)

    def get(self, name, default=None):
        self._note(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self._note(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self._note(name)
        return super().__contains__(name)


def test_only_app_py_reads_the_environment():
    """Configuration is read once, in app.py, into app.config; modules read app.config."""
    readers = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "stations").rglob("*.py")
        # the process environment, not a WSGI request's environ
        if re.search(r"\bos\.environ\b|\bgetenv\b|from os import", p.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_the_configuration_table_is_what_the_code_reads(tmp_path, monkeypatch):
    """Both ways: every documented variable is read, and every variable read is documented."""
    import app

    gunicorn_conf = ROOT / "gunicorn.conf.py"
    environ = _RecordingEnviron({app.__file__, str(gunicorn_conf)}, {})
    environ.update(DATABASE_URL=f"sqlite:///{tmp_path / 'y.db'}", SECRET_KEY="docs")
    monkeypatch.setattr(os, "environ", environ)
    app.create_app()
    runpy.run_path(str(gunicorn_conf))
    assert environ.asked, "nothing recorded: the test no longer sees the code's reads"
    documented = _configuration_table()
    assert sorted(environ.asked - documented) == [], "read but not in the README's table"
    assert sorted(documented - environ.asked) == [], "in the README's table but never read"


def _layout_paths() -> set[str]:
    """Paths of the files under stations/ in the README's layout tree (indentation = depth)."""
    block = README.split("\n## Layout\n", 1)[1].split("```")[1]
    folders: list[tuple[int, str]] = []
    paths = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        indent, name = len(line) - len(line.lstrip(" ")), line.split()[0]
        folders = [(i, f) for i, f in folders if i < indent]
        path = "".join(f for _, f in folders) + name
        if name.endswith("/"):
            folders.append((indent, name))
        elif path.startswith("stations/"):
            paths.add(path)
    return paths


def test_the_layout_lists_every_module_and_only_real_ones():
    files = {str(p.relative_to(ROOT)) for p in (ROOT / "stations").rglob("*.py")}
    modules = {f for f in files if not f.endswith("/__init__.py")}  # a package's may be listed
    listed = _layout_paths()
    assert sorted(modules - listed) == [], "missing from the README's layout"
    assert sorted(listed - files) == [], "in the README's layout but not in stations/"
