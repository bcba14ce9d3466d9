"""Staff sign-in: server-side sessions through Flask-Login, timeouts, rate limits.

The cookie carries only a random session id (signed by Flask). The session row decides: it
ends at logout, when the user is disabled, after STAFF_IDLE_MINUTES without a request and
STAFF_MAX_HOURS after sign-in, whatever the cookie says.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from stations.core.accounts import User, verify_password
from stations.web.context import get_store, now

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 10
MAX_FAILURES_PER_NAME = 5


class StaffUser(UserMixin):
    def __init__(self, user: User, session_id: str):
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


@login_manager.user_loader
def _load(session_id: str):
    found = get_store().session(session_id)
    if found is None or found.ended_at or found.user.disabled_at:
        return None
    moment = now()
    cfg = current_app.config
    last_seen, created = (
        datetime.fromisoformat(found.last_seen),
        datetime.fromisoformat(found.created_at),
    )
    if moment - last_seen > timedelta(
        minutes=cfg["STAFF_IDLE_MINUTES"]
    ) or moment - created > timedelta(hours=cfg["STAFF_MAX_HOURS"]):
        get_store().end_session(session_id, moment.isoformat(timespec="seconds"))
        return None
    if moment - last_seen > timedelta(seconds=60):  # one write a minute is enough for idleness
        get_store().touch_session(session_id, moment.isoformat(timespec="seconds"))
    return StaffUser(found.user, session_id)


def signed_in() -> User | None:
    """The signed-in staff user, if any."""
    return current_user.user if current_user.is_authenticated else None


def staff() -> User:
    """The signed-in staff user, in views behind staff_required (the admin blueprint)."""
    user = signed_in()
    if user is None:
        abort(401)
    return user


def staff_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str:
    """Only a local path: never another site, never a scheme-relative //host."""
    if not target:
        return url_for("admin.dashboard")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("admin.dashboard")
    return target


def _keys(name: str) -> list[str]:
    secret = current_app.config["SECRET_KEY"].encode()

    def key(text: str) -> str:
        return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    return [key("client|" + (request.remote_addr or "")), key("name|" + name.casefold())]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    moment = now()
    store = get_store()
    client_key, name_key = _keys(name)
    since = (moment - FAILURE_WINDOW).isoformat(timespec="seconds")
    # The limit is checked before the password hash is computed: a flood costs us nothing.
    if (
        store.login_failures(client_key, since) >= MAX_FAILURES_PER_CLIENT
        or store.login_failures(name_key, since) >= MAX_FAILURES_PER_NAME
    ):
        response = Response(
            render_template(
                "login.html", error=_("Too many attempts. Wait 15 minutes and try again."), next=""
            ),
            429,
        )
        response.headers["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
        return response
    found = store.user_login(name)
    ok = verify_password(found[1] if found else None, password)  # same cost for unknown names
    if not ok or found is None or found[0].disabled_at:
        store.add_login_failure([client_key, name_key], moment.isoformat(timespec="seconds"))
        # One message for an unknown name, a wrong password and a disabled account.
        return render_template(
            "login.html", error=_("Wrong name or password."), next=request.form.get("next", "")
        ), 401
    session.clear()  # a fresh session at sign-in: nothing from before survives
    session_id = secrets.token_urlsafe(32)
    store.create_session(session_id, found[0].id, moment.isoformat(timespec="seconds"))
    login_user(StaffUser(found[0], session_id))
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        get_store().end_session(current_user.session_id, now().isoformat(timespec="seconds"))
    logout_user()
    session.clear()
    flash(_("Signed out."), "ok")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    app.config.setdefault("STAFF_IDLE_MINUTES", 30)
    app.config.setdefault("STAFF_MAX_HOURS", 12)
    login_manager.init_app(app)
    login_manager.session_protection = None  # our own session rows do this job
    app.register_blueprint(bp)

    @app.context_processor
    def _staff():
        return {"staff_user": signed_in()}


def forbid(message: str):
    abort(
        Response(
            render_template("message.html", message=message, back=url_for("admin.dashboard")), 403
        )
    )
