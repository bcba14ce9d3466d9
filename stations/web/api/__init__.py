"""The API face, /api/v1: `base` (blueprint, errors, shared rendering), `read` (public reads),
`write` (staff writes), `partners` (keys, rate limits, CORS), `openapi` (its description)."""

from stations.web.api import coverage, read, write  # noqa: F401  (register their routes)
from stations.web.api.base import bp, docs_bp, init_app

__all__ = ["bp", "docs_bp", "init_app"]
