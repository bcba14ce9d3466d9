"""Staff pages for the registry: stations in one's region, editing with history, import,
dashboard and exports. Every write goes through the core (`editing`, the importer with a scope),
which checks the region; these views only parse forms and render results."""

import io

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from stations.core import (
    columns,
    compliance,
    editing,
    hours,
    hours_input,
    labels,
    present,
    staff_tables,
    standards,
    words,
)
from stations.core.accounts import AccessDenied
from stations.core.model import Invalid
from stations.core.published import is_published
from stations.core.staff_tables import PER_PAGE, STATION_SORTS, page_of
from stations.core.vocab import STATUSES
from stations.web.admin import field_errors
from stations.web.admin.base import (
    audit_interval,
    bp,
    form_data,
    map_parts,
    station_in_scope,
    vocab_choices,
)
from stations.web.admin.lists import list_args
from stations.web.auth import forbid, staff
from stations.web.context import FALLBACK_CENTRE, get_store, map_centre, now
from stations.web.i18n import requested_language


@bp.get("/stations")
def stations():
    """Every station of the staff member's region, any status: searched, filtered, sorted and
    paged in the store."""
    args = list_args(STATION_SORTS, STATUSES.keys(), default_sort="name")
    store, region = get_store(), staff().region

    def fetch(offset: int):
        return store.stations_page(
            region,
            q=args.q,
            status=args.status,
            adcode=args.district,
            sort=args.sort,
            descending=args.descending,
            offset=offset,
            limit=PER_PAGE,
        )

    offset = (args.page - 1) * PER_PAGE
    found, total = fetch(offset)
    pager = page_of(total, args.page)
    if pager.offset != offset:  # past the end: the last page
        found, total = fetch(pager.offset)
    args.page = pager.number
    return render_template(
        "admin/stations.html",
        stations=found,
        pager=pager,
        args=args,
        districts=store.region_districts(region),
        statuses=STATUSES,
    )


def _hours_from_form(data: dict) -> hours_input.HoursInputError | None:
    """The hours field as staff typed it, OSM syntax or a Chinese phrase, made OSM in place;
    a phrase that cannot be read stays as typed (validation refuses it) and its error returns."""
    typed = data.get("opening_hours")
    if not isinstance(typed, str):
        return None
    try:
        data["opening_hours"] = hours_input.to_osm(typed)
    except hours_input.HoursInputError as exc:
        return exc
    return None


def _errors(exc: Invalid, data: dict, hours_error) -> dict[str, str]:
    """Each bad field's problem in the page's language; the template names the field."""
    errors = field_errors.messages(exc.errors)
    if hours_error is not None and "opening_hours" in errors:
        errors["opening_hours"] = field_errors.hours_message(
            hours_error, str(data.get("opening_hours", ""))
        )
    return errors


@bp.route("/stations/new", methods=["GET", "POST"])
def new_station():
    errors, data = {}, {}
    if request.method == "POST":
        data = form_data()
        hours_error = _hours_from_form(data)
        try:
            s = editing.create(get_store(), staff(), data, now())
            flash(_("Saved."), "ok")
            return redirect(url_for("admin.station", station_id=s.id), 303)
        except Invalid as exc:
            errors = _errors(exc, data, hours_error)
        except AccessDenied as exc:
            forbid(str(exc))
    centre = map_centre()
    parts, datum = map_parts(centre)
    return render_template(
        "admin/edit.html",
        s=None,
        data=data,
        errors=errors,
        map=parts,
        datum=datum,
        **vocab_choices(),
    ), (400 if errors else 200)


def _open_now_badge(s, live: dict, moment) -> dict | None:
    """The second badge of an open station: open now (until when), resting by its hours (and
    when it opens), or hours unknown. None for a station whose status already says it all."""
    if s.status != "open":
        return None
    today = moment.date()
    if live["open_now"]:
        closes = live["closes_at"]
        if not closes:
            return {"kind": "open", "text": _("Open now")}
        return {
            "kind": "open",
            "text": _("Open now, until %(time)s", time=words.days_and_time(closes, today)[1]),
        }
    if live["open_now"] is None:
        return {"kind": "unknown", "text": _("Hours unclear: check on site")}
    opens = live["opens_next"]
    if not opens:
        return {"kind": "closed", "text": _("Resting by its hours")}
    days, time = words.days_and_time(opens, today)
    if days == 0:
        text = _("Resting, opens at %(time)s", time=time)
    elif days == 1:
        text = _("Resting, opens tomorrow at %(time)s", time=time)
    else:
        day = words.day(opens, requested_language(), today)
        text = _("Resting, opens %(day)s at %(time)s", day=day, time=time)
    return {"kind": "closed", "text": text}


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    s = station_in_scope(station_id)
    store, moment = get_store(), now()
    latest = store.latest_audits([s.id]).get(s.id)
    live = present.live_state(s, moment)
    profiles = standards.profiles()
    # What the last audit found wrong, item by item: what staff go back to fix
    failed_items = []
    if latest is not None and not latest.passed:
        profile = profiles.get(latest.profile)
        names = (
            {i.key: (i.zh if requested_language() == "zh" else i.en) for i in profile.items}
            if profile
            else {}
        )
        failed_items = [
            (names.get(i.item, i.item), i.note)
            for i in store.audit_items(latest.id)
            if i.result == "fail"
        ]
    return render_template(
        "admin/station.html",
        failed_items=failed_items,
        s=s,
        history=store.history(s.id),
        audits=store.audits_for(s.id),
        latest=latest,
        profiles=profiles,
        live=live,
        open_badge=_open_now_badge(s, live, moment),
        published=is_published(s),
        hours_text=hours.describe(s.opening_hours, requested_language()),
        reports=store.station_reports(s.id),
        vocab_fields=labels.FIELD_VOCABULARIES,
        **vocab_choices(),
    )


@bp.post("/stations/<int:station_id>/confirm")
def confirm_station(station_id: int):
    """信息无误: staff vouch for the details as they stand; "last verified" becomes now."""
    station_in_scope(station_id)
    try:
        editing.confirm(get_store(), staff(), station_id, now())
    except AccessDenied as exc:
        forbid(str(exc))
    flash(_("Details confirmed: last verified now."), "ok")
    return redirect(url_for("admin.station", station_id=station_id), 303)


@bp.route("/stations/<int:station_id>/edit", methods=["GET", "POST"])
def edit_station(station_id: int):
    s = station_in_scope(station_id)
    errors, data = {}, s.content() | {"crs": "wgs84"}
    if request.method == "POST":
        data = form_data()
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            abort(400)
        hours_error = _hours_from_form(data)
        try:
            editing.update(get_store(), staff(), station_id, data, version, now())
            flash(_("Saved."), "ok")
            return redirect(url_for("admin.station", station_id=station_id), 303)
        except editing.Conflict as exc:
            return render_template(
                "admin/conflict.html",
                s=exc.current,
                change=exc.last_change,
                mine=data,
                vocab_fields=labels.FIELD_VOCABULARIES,
            ), 409
        except Invalid as exc:
            errors = _errors(exc, data, hours_error)
        except AccessDenied as exc:
            forbid(str(exc))
    parts, datum = map_parts((s.lat, s.lon))
    return render_template(
        "admin/edit.html", s=s, data=data, errors=errors, map=parts, datum=datum, **vocab_choices()
    ), (400 if errors else 200)


@bp.post("/stations/<int:station_id>/status")
def set_status(station_id: int):
    station_in_scope(station_id)
    status = request.form.get("status", "")
    changes = {"status": status}
    if status == "temporarily_closed":
        changes["closed_until"] = request.form.get("closed_until", "")
    try:
        version = int(request.form.get("version", ""))
        editing.update(get_store(), staff(), station_id, changes, version, now())
        flash(_("Saved."), "ok")
    except Invalid as exc:  # each field by its label, in the page's language
        lang = requested_language()
        for field, message in field_errors.messages(exc.errors).items():
            flash(
                _("%(field)s: %(message)s", field=columns.label(field, lang), message=message),
                "error",
            )
    except ValueError:  # the form's version field: only a tampered form gets here
        abort(400, description=_("This form is out of date. Reload the page."))
    except editing.Conflict as exc:
        change = exc.last_change
        flash(
            _(
                "Changed by %(who)s at %(when)s. Nothing of yours was saved. Review the current version below, then edit again.",
                who=(change.actor if change.user_id else _("Command line")) if change else "?",
                when=words.when(
                    change.at if change else exc.current.updated_at,
                    requested_language(),
                    now(),
                    relative=False,
                ),
            ),
            "error",
        )
    except AccessDenied as exc:
        forbid(str(exc))
    return redirect(url_for("admin.station", station_id=station_id), 303)


# -- import -----------------------------------------------------------------------------------


# -- dashboard --------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    store, user, moment = get_store(), staff(), now()
    lang = requested_language()
    figs = compliance.figures(store, user.region, moment, audit_interval())
    failing = [
        {
            "id": f.station.id,
            "name": f.station.name,
            "lat": f.station.lat,
            "lon": f.station.lon,
            "district": f.station.district,
            "visited_on": f.last_audit.visited_on,
            "score": f.last_audit.score,
        }
        for f in figs.stations
        if f.last_audit is not None and not f.last_audit.passed
    ]
    failing.sort(key=lambda f: (f["district"], f["name"]))
    counted = [f.station for f in figs.stations]
    centre = (
        (sum(s.lat for s in counted) / len(counted), sum(s.lon for s in counted) / len(counted))
        if counted
        else FALLBACK_CENTRE
    )
    parts, datum = map_parts(centre)
    return render_template(
        "admin/dashboard.html",
        figures=figs,
        percent=compliance.percent,
        failing=failing,
        map=parts,
        datum=datum,
        user=user,
        headers=staff_tables.district_headers(lang),
        total_label=staff_tables.TOTAL.label(lang),
        interval_days=audit_interval().days,
    )


@bp.get("/export/<what>.<fmt>")
def export(what: str, fmt: str):
    """The district figures or every audit item, labelled in the page's language (?lang=)."""
    from stations.core.writers import table_csv, table_xlsx

    if fmt not in ("csv", "xlsx"):
        abort(404)
    store, user, lang = get_store(), staff(), requested_language()
    if what == "districts":
        figs = compliance.figures(store, user.region, now(), audit_interval())
        headers, rows = staff_tables.district_table(figs, lang)
    elif what == "audits":
        # one query, not one per station and audit
        headers, rows = staff_tables.audit_table(
            store.audit_rows(user.region), standards.profiles(), lang
        )
    else:
        abort(404)
    if fmt == "csv":
        text = io.StringIO(newline="")
        table_csv(text, headers, rows)
        body, mimetype = ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv"
    else:
        binary = io.BytesIO()
        table_xlsx(binary, headers, rows, what)
        body, mimetype = (
            binary.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=yizhan-{what}-{now():%Y%m%d}.{fmt}"
    )
    return response


from stations.web.admin import imports  # noqa: E402, F401  (the import view and its jobs)
