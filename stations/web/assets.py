"""Static files: Leaflet from its PyPI package, and files small enough to compress (riders on
slow 4G pay for every byte).

Flask sends static files as a stream, and Flask-Compress cannot gzip a stream; files under a
megabyte are read into the response instead, so they compress like any page.
"""

from datetime import timedelta

from flask import Blueprint, Flask, abort, send_from_directory

MAX_INLINE = 1024 * 1024
bp = Blueprint("assets", __name__)


def init_app(app: Flask) -> None:
    """Call after Compress(app): after_request hooks run in reverse, so this runs first."""
    app.register_blueprint(bp)

    @app.after_request
    def materialise(response):
        length = response.content_length
        if response.direct_passthrough and length is not None and length <= MAX_INLINE:
            source = response.response
            response.direct_passthrough = False
            response.set_data(b"".join(source))  # no longer a stream
            if hasattr(source, "close"):
                source.close()  # the file is read: close it now, not at response teardown
        return response


@bp.get("/vendor/leaflet/<path:filename>")
def vendor(filename: str):
    """Leaflet from the xstatic-leaflet package: our server, not a CDN."""
    import xstatic.pkg.leaflet as leaflet

    if filename not in ("leaflet.js", "leaflet.css") and not filename.startswith("images/"):
        abort(404)
    return send_from_directory(
        leaflet.BASE_DIR, filename, max_age=int(timedelta(days=30).total_seconds())
    )
