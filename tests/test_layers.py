"""The core is pure: importing any of it loads neither the store nor Flask.

Core modules name store protocols only for the type checker (under TYPE_CHECKING), so a core
function can be used, and tested, without any database code loaded.
"""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "stations" / "core"


def test_core_never_imports_the_store_or_flask_at_runtime():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert {"audits", "checkins", "compliance", "editing", "importer"} <= set(modules)
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('stations.core.' + name)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('stations.store', 'stations.web', 'flask', 'sqlite3', 'sqlite_utils')))\n"
        "print(' '.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=CORE.parent.parent,
    )
    assert result.stdout.split() == []
