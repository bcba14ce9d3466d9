"""Staff pages, /admin: one blueprint (`base`), its routes in `registry` (stations, import,
dashboard, exports) and `quality` (audits, evidence, problem reports, due audits)."""

from stations.web.admin import coverage, quality, registry  # noqa: F401  (register their routes)
from stations.web.admin.base import bp

__all__ = ["bp"]
