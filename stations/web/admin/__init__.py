"""Staff pages, /admin: one blueprint (`base`), its routes in `registry` (stations, import,
dashboard, exports), `quality` (audits, evidence, problem reports, due audits), `hours` (the
opening-hours editor's preview) and `people` (for admins: staff accounts, regions' default audit
profiles)."""

from stations.web.admin import (  # noqa: F401  (register their routes)
    coverage,
    hours,
    people,
    quality,
    registry,
)
from stations.web.admin.base import bp

__all__ = ["bp"]
