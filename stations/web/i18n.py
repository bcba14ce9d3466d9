"""Languages: Chinese by default, English on request (?lang=en, remembered in a cookie).

Message ids are English; translations/zh/LC_MESSAGES/messages.po holds the Chinese. The .mo
catalogue Flask-Babel reads is compiled from it at start-up when missing or older, so a fresh
checkout needs no build step.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("zh", "en")
DEFAULT = "zh"


def requested_language() -> str:
    """The page language: ?lang= first, then the cookie, then Chinese."""
    for value in (request.args.get("lang"), request.cookies.get("lang")):
        if value in LANGUAGES:
            return value
    return DEFAULT


def compile_catalogues(directory: Path) -> None:
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as f:
                catalogue = read_po(f)
            tmp = mo.with_suffix(".mo.tmp")
            with open(tmp, "wb") as f:
                write_mo(f, catalogue)
            tmp.replace(mo)  # atomic: a second worker never reads half a file


def init_app(app: Flask) -> None:
    directory = Path(app.root_path) / "translations"
    compile_catalogues(directory)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    Babel(app, locale_selector=requested_language)

    @app.after_request
    def remember_language(response):
        lang = request.args.get("lang")
        if (
            lang in LANGUAGES
            and not request.path.startswith("/embed")  # an embed sets no cookie at all
            and request.cookies.get("lang") != lang
            and response.mimetype == "text/html"
        ):
            response.set_cookie(
                "lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response
