"""Static files small enough to compress: riders on slow 4G pay for every byte.

Flask sends static files as a stream, and Flask-Compress cannot gzip a stream; files under a
megabyte are read into the response instead, so they compress like any page.
"""

from flask import Flask

MAX_INLINE = 1024 * 1024


def init_app(app: Flask) -> None:
    """Call after Compress(app): after_request hooks run in reverse, so this runs first."""

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
