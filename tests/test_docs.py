"""The README is the newcomer's entry point: it must stay true to the code."""

from pathlib import Path

from stations.cli import COMMANDS
from stations.core.vocab import FACILITIES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


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
