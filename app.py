"""Yizhan web app factory: the one place where Flask, configuration and `stations` meet.

Configuration comes from environment variables, read here once:
DATABASE_URL (default sqlite:///<instance>/yizhan.db), SECRET_KEY (generated into the instance
folder on first run if unset), TILES (osm | tianditu | amap) and TIANDITU_KEY.
"""

import os
import secrets

from flask import Flask

from stations import cli, storage, web


def _secret_key(instance_path: str) -> str:
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{os.path.join(app.instance_path, 'yizhan.db')}",
        TILES=os.environ.get("TILES", "osm"),
        TIANDITU_KEY=os.environ.get("TIANDITU_KEY", ""),
        SECRET_KEY=os.environ.get("SECRET_KEY") or None,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    storage.init_app(app)
    app.register_blueprint(web.bp)
    cli.init_app(app)
    return app
