"""Staff pages, /admin: one blueprint (`base`), its routes in `registry` (stations, import,
dashboard, exports), `quality` (audits, evidence, problem reports, due audits) and `hours`
(the opening-hours editor's preview)."""

from stations.web.admin import coverage, hours, quality, registry  # noqa: F401  (register routes)
from stations.web.admin.base import bp

__all__ = ["bp"]
