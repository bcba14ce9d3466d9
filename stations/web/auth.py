"""Staff sign-in through Flask-Login: the form, the cookie, the redirects.

The cookie carries only a random session id (signed by Flask). The session row decides (see
accounts.session_user): it ends at logout, when the user is disabled, after
STAFF_IDLE_MINUTES without a request and STAFF_MAX_HOURS after sign-in, whatever the cookie
says. The limits on failed attempts are accounts.sign_in's: a wait that grows with failures,
never a lock. A successful sign-in leaves a device cookie (DEVICE_COOKIE, signed, for /login only)
that lets this browser sign in as that name again even while the name is being guessed at.
"""

from datetime import timedelta
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

from stations.core import accounts
from stations.core.accounts import User
from stations.web.context import get_store, now

bp = Blueprint("auth", __name__)
DEVICE_COOKIE = "yz_device"
DEVICE_DAYS = 365
login_manager = LoginManager()


class StaffUser(UserMixin):
    def __init__(self, user: User, session_id: str):
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


@login_manager.user_loader
def _load(session_id: str):
    cfg = current_app.config
    user = accounts.session_user(
        get_store(),
        session_id,
        now(),
        idle=timedelta(minutes=cfg["STAFF_IDLE_MINUTES"]),
        longest=timedelta(hours=cfg["STAFF_MAX_HOURS"]),
    )
    return StaffUser(user, session_id) if user else None


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    secret = current_app.config["SECRET_KEY"]
    device = request.cookies.get(DEVICE_COOKIE, "")
    try:
        user, session_id = accounts.sign_in(
            get_store(),
            name,
            request.form.get("password", ""),
            secret=secret,
            address=request.remote_addr or "",
            now=now(),
            device=device,
        )
    except accounts.TooManyAttempts as exc:
        response = Response(
            render_template(
                "login.html",
                error=_(
                    "Too many attempts. Wait %(wait)s and try again.",
                    wait=wait_words(exc.retry_after),
                ),
                next=request.form.get("next", ""),
                name=request.form.get("name", "").strip(),
            ),
            429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except accounts.SignInRefused as exc:
        error = _("Wrong name or password.")
        if exc.retry_after:  # this failure starts a wait: say so now, not at the next try
            error = _(
                "Wrong name or password. Wait %(wait)s before the next try.",
                wait=wait_words(exc.retry_after),
            )
        # the name stays filled in and the password field takes the focus: only the password
        # is typed again
        return render_template(
            "login.html",
            error=error,
            next=request.form.get("next", ""),
            name=request.form.get("name", "").strip(),
        ), 401
    session.clear()  # a fresh session at sign-in: nothing from before survives
    login_user(StaffUser(user, session_id))
    answer = redirect(safe_next(request.form.get("next")))
    answer.set_cookie(
        DEVICE_COOKIE,
        accounts.device_cookie(secret, name, device),
        max_age=DEVICE_DAYS * 86400,
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return answer


def wait_words(seconds: int) -> str:
    """A wait in words: '8 seconds', '3 minutes' (rounded up)."""
    if seconds < 60:
        return _("1 second") if seconds == 1 else _("%(num)d seconds", num=seconds)
    minutes = -(-seconds // 60)
    return _("1 minute") if minutes == 1 else _("%(num)d minutes", num=minutes)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        accounts.sign_out(get_store(), current_user.session_id, now())
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
