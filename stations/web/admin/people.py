"""Staff pages for admins: the staff of their region (reset a forgotten password, which ends
that user's sessions) and the regions' default audit profiles. Who may do what, and where, is
decided in the core (accounts.require_manage, region_profiles.set_default)."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from stations.core import accounts, region_profiles, standards
from stations.core.accounts import AccessDenied
from stations.web.admin.base import bp
from stations.web.auth import forbid, staff
from stations.web.context import get_store, now
from stations.web.i18n import requested_language


def _weak(exc: accounts.WeakPassword) -> str:
    if exc.reason == "short":
        return _("Use at least %(n)s characters.", n=accounts.MIN_PASSWORD)
    if exc.reason == "repeats":
        return _("This password repeats one or two characters. Choose another.")
    return _("This password is too common or contains the user name. Choose another.")


def _people_page(errors: dict[str, str] | None = None, status: int = 200):
    user = staff()
    try:
        members = accounts.staff_in_scope(get_store(), user)
    except AccessDenied:
        forbid(_("Only an administrator may manage staff accounts."))
    body = render_template(
        "admin/people.html", members=members, errors=errors or {}, min_length=accounts.MIN_PASSWORD
    )
    return body, status


@bp.get("/people")
def people():
    return _people_page()


@bp.post("/people/<name>/password")
def reset_password(name: str):
    """A new password for one staff member: typed twice, or generated and shown once."""
    user, store = staff(), get_store()
    try:
        accounts.require_admin(user)
        target = accounts.find_user(store, name)
    except AccessDenied:
        forbid(_("Only an administrator may manage staff accounts."))
    except ValueError:  # UnknownUser, or a name that cannot be one
        abort(404)
    generate = request.form.get("action") == "generate"
    if generate:
        password = accounts.generate_password()
    else:
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            return _people_page({target.name: _("The two passwords differ.")}, 400)
    try:
        target, ended = accounts.set_password(store, target.name, password, now(), by=user)
    except AccessDenied:
        forbid(
            _(
                "%(name)s's region is outside yours: only an administrator of that region may "
                "reset this password.",
                name=target.name,
            )
        )
    except accounts.WeakPassword as exc:
        return _people_page({target.name: _weak(exc)}, 400)
    done = _(
        "New password set for %(name)s; %(n)s session(s) signed out.", name=target.name, n=ended
    )
    if not generate:
        flash(done, "ok")
        return redirect(url_for("admin.people"), 303)
    # Shown once, on this page only: never in a flash (the cookie) or a URL, never cached.
    response = Response(
        render_template("admin/password_shown.html", target=target, password=password, done=done)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# -- regions' default audit profiles ----------------------------------------------------------


def _regions_page(error: str = "", status: int = 200):
    user = staff()
    try:
        accounts.require_admin(user)
    except AccessDenied:
        forbid(_("Only an administrator may set a region's default audit profile."))
    store = get_store()
    rows = region_profiles.defaults_in_scope(store, store, user.region)
    lang = requested_language()
    profiles = [(p.key, p.zh if lang == "zh" else p.en) for p in standards.profiles().values()]
    body = render_template(
        "admin/regions.html", rows=rows, profiles=profiles, names=dict(profiles), error=error
    )
    return body, status


@bp.get("/regions")
def regions_page():
    return _regions_page()


@bp.post("/regions")
def set_region_profile():
    user, store = staff(), get_store()
    region, profile = request.form.get("region", "").strip(), request.form.get("profile", "")
    try:
        accounts.require_admin(user)
    except AccessDenied:
        forbid(_("Only an administrator may set a region's default audit profile."))
    try:
        done = region_profiles.set_default(store, region, profile, by=user)
    except AccessDenied:
        forbid(_("This region is outside yours."))
    except region_profiles.UnknownProfile:
        return _regions_page(_("Choose a profile from the list."), 400)
    except ValueError:
        return _regions_page(
            _("Give a region code of 2, 4 or 6 digits that exists, e.g. 63, 6301 or 630102."), 400
        )
    found = standards.profiles()[done.profile]
    name = done.name or _("Whole country")
    label = found.zh if requested_language() == "zh" else found.en
    flash(_("%(region)s: audits now start from %(profile)s.", region=name, profile=label), "ok")
    return redirect(url_for("admin.regions_page"), 303)
