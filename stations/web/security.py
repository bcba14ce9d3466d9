"""Headers every response carries: no MIME sniffing, a Referrer-Policy, and a Content-Security-
Policy that runs only scripts from our own origin plus the inline scripts our templates wrote.

Inline scripts are allowed by their SHA-256 hash, not by a nonce: a page whose content is the
same on every render keeps matching its header when a cache revalidates it with a 304. Map pages
are not such pages (folium gives each render a random element id, so their hashes differ per
response); they stay correct because HTML is sent no-cache without an ETag — give them an ETag
and their scripts would be refused. A template writes an executable inline script through the
`inline_script` filter (`{{ map.script|inline_script }}` or `{% filter inline_script %}…{%
endfilter %}`), which records the hash for this response; a `<script>` written any other way
does not run. JSON data blocks (`type="application/json"`) are not scripts and need nothing.

The frame policy (frame-ancestors) is the embed's own header; this one is sent as a second
Content-Security-Policy header, and browsers enforce both.

Retry-After means something only on 429, 503 (and 507): it is taken off any other response.
A 405 names the methods that would be answered (Allow), as HTTP requires.
"""

import base64
import hashlib

from flask import Flask, g, request
from markupsafe import Markup
from werkzeug.exceptions import MethodNotAllowed

REFERRER_POLICY = "strict-origin-when-cross-origin"  # other sites see our origin, never a path
RETRY_AFTER_STATUSES = (429, 503, 507)


def inline_script(content: str) -> Markup:
    """<script>content</script>, allowed by this response's Content-Security-Policy."""
    text = str(content)
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    hashes = g.setdefault("csp_script_hashes", [])
    if digest not in hashes:
        hashes.append(digest)
    return Markup(f"<script>{text}</script>")


def policy(hashes: list[str]) -> str:
    sources = " ".join(["'self'", *(f"'sha256-{h}'" for h in hashes)])
    return f"script-src {sources}; object-src 'none'; base-uri 'self'"


def _headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    response.headers.add("Content-Security-Policy", policy(g.get("csp_script_hashes", [])))
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    refused = request.routing_exception
    if response.status_code == 405 and "Allow" not in response.headers:
        if isinstance(refused, MethodNotAllowed) and refused.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(refused.valid_methods))
    return response


def init_app(app: Flask) -> None:
    """Register before anything else that sets headers after a request (rate limits, the frame
    policy): Flask runs the app's after-request functions last-registered first, so this one
    sees their headers."""
    app.jinja_env.filters["inline_script"] = inline_script
    app.after_request(_headers)
