"""Command-line interface, through Flask's CLI: flask --app app COMMAND.

Every command honours DATABASE_URL. Expected failures print one line (no traceback) and exit 1.
"""

import os
import secrets
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from stations.core import (
    accounts,
    coverage_export,
    coverage_report,
    demand,
    demand_files,
    demand_import,
    importer,
    readers,
    region_profiles,
    standards,
    writers,
)
from stations.core.coverage import PRESETS
from stations.core.hours import TZ
from stations.core.model import Invalid
from stations.core.vocab import DATUMS
from stations.store import StoreError, open_store
from stations.store import backup as backups
from stations.store.copy import (
    SKIPPED,
    CopyRefused,
    CountMismatch,
    TableCount,
    copy_registry,
    describe_target,
)
from stations.store.protocols import AccountStore, PlanningStore, StationStore, Store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
DEMO = SEEDS / "demo_stations.geojson"
DEMO_DEMAND = SEEDS / "demo_demand.geojson"
DEMO_DEMAND_LAYER = "演示需求（虚构）"


def _store(*, create: bool = False) -> Store:
    """The configured store, migrated; a failure to open it is one line, not a traceback.
    Only the commands that put something in create a missing database (init-db, seed, import,
    import-demand, user create, key create); the others, on a mistyped DATABASE_URL or a lost
    file, say so instead of reporting on a new empty one (an export of nothing, 0 stations)."""
    try:
        store = open_store(current_app.config["DATABASE_URL"])
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        store.migrate(create=create)
    except StoreError as exc:
        store.close()
        raise click.ClickException(str(exc)) from None
    return store


class _Progress:
    """A bar on a terminal; a line every 10 % otherwise (logs, CI, a test watching stderr)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.next_mark = label, total, 0, total / 10
        self.bar = None
        if sys.stderr.isatty() and total > 500:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
        else:
            click.echo(f"{label}: 0/{total}", err=True)

    def __call__(self, n: int) -> None:
        self.done += n
        if self.bar:
            self.bar.update(n)
        elif self.done >= self.next_mark or self.done == self.total:
            click.echo(f"{self.label}: {self.done}/{self.total}", err=True)
            self.next_mark += self.total / 10

    def close(self) -> None:
        if self.bar:
            self.bar.__exit__(None, None, None)


def run_import(
    store: StationStore, path: str, crs: str | None, dry_run: bool
) -> importer.ImportPlan:
    """Plan, report and (unless dry_run or bad) apply an import; the CLI and seed share it."""
    try:
        plan = importer.plan_import(store, path, crs=crs, progress=_Progress)
    except (importer.ImportRejected, readers.FileRejected) as exc:
        raise click.ClickException(f"{path}: {exc}; nothing was imported") from None
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    if plan.errors:
        for error in plan.errors:
            click.echo(str(error), err=True)
        rows_bad = len({e.where for e in plan.errors})
        raise click.ClickException(
            f"{path}: {rows_bad} bad row{'s' if rows_bad != 1 else ''}; nothing was imported"
        )
    if dry_run:
        click.echo(f"{path}: valid; would import {plan.summary()} (dry run, nothing written)")
        return plan
    try:
        importer.apply_plan(store, plan, progress=_Progress)
    except StoreError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    click.echo(f"{path}: {plan.summary()}")
    return plan


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database, or upgrade its schema to the current version.

    Example:

    \b
        flask --app app init-db
    """
    with _store(create=True) as store:
        click.echo(
            f"Database ready: {current_app.config['DATABASE_URL']} ({store.count()} stations)"
        )


@click.command("seed")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has stations.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    default=str(DEMO),
    show_default=True,
)
def seed_command(if_empty, path):
    """Load the FICTITIOUS demo stations (and check the standard profiles).

    Example:

    \b
        flask --app app seed --if-empty
    """
    profiles = standards.profiles()
    with _store(create=True) as store:
        if if_empty and store.count():
            click.echo(f"Database has {store.count()} stations; not seeding.")
            if store.demo_count():  # a demo registry from before the demo demand existed
                load_demo_demand(store)
            return
        run_import(store, path, None, dry_run=False)
        if Path(path).resolve() == DEMO:
            load_demo_demand(store)
        made = create_demo_users(store)
    click.echo(f"Standard profiles available: {', '.join(p.zh for p in profiles.values())}")
    if made:
        # Printed here, framed so it stands out above the server's start-up lines, and kept
        # in a file only its owner can read (the database holds only argon2id hashes).
        saved = write_demo_passwords(Path(current_app.config["DEMO_PASSWORDS_FILE"]), made)
        rule = "=" * 72
        click.echo(f"\n{rule}\n Demo staff accounts:")
        for name, role, region, password in made:
            click.echo(f"   {name} / {password}    ({role}, region {region or 'all'})")
        click.echo(f" Sign in at /login. Also saved in {saved} (readable by you only).\n{rule}\n")


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--crs",
    type=click.Choice(DATUMS.keys()),
    help="Datum of the file's coordinates when it has no crs column (default wgs84).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_command(path, crs, dry_run):
    """Import stations from CSV, XLSX or GeoJSON; upsert by code, all rows or none.

    Headers may be Chinese or English (编号/code, 名称/name, 经度/lon, 纬度/lat, 坐标系/crs, ...).
    Any bad row stops the whole import and every bad row is listed as "row N, column X: reason".

    Example:

    \b
        flask --app app import stations.xlsx --crs gcj02 --dry-run
    """
    if not Path(path).exists():
        raise click.ClickException(f"{path}: no such file")
    with _store(create=not dry_run) as store:
        run_import(store, path, crs, dry_run)


def load_demo_demand(store: PlanningStore) -> None:
    """The FICTITIOUS demo demand of the four demo cities, as its own layer, unless loaded."""
    if any(layer.name == DEMO_DEMAND_LAYER for layer in store.demand_layers()):
        return
    points = demand_files.read_demand(DEMO_DEMAND)
    try:
        store.replace_demand_layer(DEMO_DEMAND_LAYER, "demand", points, _now(), fictitious=True)
    except StoreError as exc:
        raise click.ClickException(f"{DEMO_DEMAND.name}: {exc}") from None
    click.echo(f"Demo demand (FICTITIOUS): {len(points)} points as layer {DEMO_DEMAND_LAYER}")


@click.command("import-demand")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--layer", "name", required=True, help="The layer's name, e.g. 合肥外卖骑手2026.")
@click.option(
    "--kind",
    type=click.Choice(demand.LAYER_KINDS),
    default="demand",
    show_default=True,
    help="demand: weighted points (a weight column is required); candidates: possible sites "
    "for new stations (weight optional, 1 when missing).",
)
@click.option(
    "--crs",
    type=click.Choice(DATUMS.keys()),
    help="Datum of the file's coordinates when a row has no crs of its own (default wgs84).",
)
@click.option("--replace", is_flag=True, help="Replace the layer if it exists.")
def import_demand_command(path, name, kind, crs, replace):
    """Import a layer of demand points (or candidate sites) from CSV, XLSX or GeoJSON.

    Headers may be Chinese or English: 纬度/lat, 经度/lon, 权重/weight (or 人数, 数量,
    population, orders), 名称/label, 坐标系/crs. Points must lie in mainland China. Any bad row
    refuses the whole file, and every bad row is listed as "row N, column X: reason".

    Example:

    \b
        flask --app app import-demand riders.csv --layer 合肥骑手 --crs gcj02
    """
    if not Path(path).exists():
        raise click.ClickException(f"{path}: no such file")
    with _store(create=True) as store:
        try:
            done = demand_import.import_layer(
                store, path, name, kind, crs, replace=replace, now=_now()
            )
        except demand_import.LayerExists as exc:
            raise click.ClickException(
                f"{exc}; add --replace to replace it; nothing was imported"
            ) from None
        except demand_files.DemandRejected as exc:
            if not exc.bad_rows:
                raise click.ClickException(f"{path}: {exc}; nothing was imported") from None
            for problem in exc.problems:
                click.echo(problem, err=True)
            bad = exc.bad_rows
            raise click.ClickException(
                f"{path}: {bad} bad row{'s' if bad != 1 else ''}; nothing was imported"
            ) from None
        except (ValueError, StoreError) as exc:
            raise click.ClickException(f"{path}: {exc}; nothing was imported") from None
    verb = "replaced" if done.replaced else "imported"
    click.echo(
        f"{path}: {done.points} points {verb} as {kind} layer {done.name} "
        f"(total weight {done.total_weight:g})"
    )


@click.command("demand-layers")
@with_appcontext
@click.option("--delete", "doomed", metavar="NAME", help="Delete this layer and its points.")
def demand_layers_command(doomed):
    """List the demand layers and candidate-site layers (or delete one).

    Example:

    \b
        flask --app app demand-layers
    """
    with _store() as store:
        if doomed is not None:
            try:
                demand_import.delete_layer(store, doomed)
            except demand_import.LayerRefused as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"Deleted layer {doomed}")
            return
        layers = store.demand_layers()
    if not layers:
        click.echo("No demand layers; add one with import-demand.")
    for layer in layers:
        mark = "  FICTITIOUS (demo)" if layer.fictitious else ""
        click.echo(
            f"{layer.name}  {layer.kind:<10} {layer.points:>7} points  "
            f"total weight {layer.total_weight:g}  imported {layer.imported_at}{mark}"
        )


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Column headers and labels.",
)
@click.option(
    "--public",
    is_flag=True,
    help="Only what the public may see: published stations (not planned or closed), "
    "without staff-only fields (manager name and phone).",
)
def export_command(path, lang, public):
    """Export every station; the format follows the extension (.csv .xlsx .geojson .gpkg).

    Example:

    \b
        flask --app app export stations.xlsx --lang zh
    """
    if Path(path).suffix.lower() not in writers.FORMATS:
        raise click.ClickException(f"{path}: use one of {', '.join(writers.FORMATS)}")
    with _store() as store:
        try:
            stations = store.iter_published() if public else store.iter_stations()
            count = writers.write(path, stations, lang=lang, public=public)
        except OSError as exc:
            raise click.ClickException(f"{path}: {exc.strerror}") from None
    click.echo(f"Exported {count} stations to {path}")


@click.command("stats")
@with_appcontext
def stats_command():
    """Show how many stations there are, by status and by city.

    Example:

    \b
        flask --app app stats
    """
    with _store() as store:
        s = store.summary()
    click.echo(f"{s['total']} stations (last change {s['updated_at'] or '—'})")
    for status, n in sorted(s["by_status"].items()):
        click.echo(f"  {status:<20} {n:>7}")
    for row in s["by_city"]:
        click.echo(
            f"  {row['province']}{row['city'] if row['city'] != row['province'] else ''}: {row['stations']} ({row['open']} open)"
        )


@click.group("user")
def user_group():
    """Staff accounts: create, list, disable, API tokens.

    Example:

    \b
        flask --app app user create xining-audit --role auditor --region 6301
    """


@user_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option(
    "--region",
    default="",
    help="Adcode prefix the user may see and change: 63, 6301, 630102; empty = all.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of a prompt.",
)
@with_appcontext
def user_create(name, role, region, password_stdin):
    """Create a staff user; the password is prompted (or read from stdin).

    Example:

    \b
        flask --app app user create xining-audit --role auditor --region 6301
    """
    try:  # before the prompt: nobody types a password for a name that cannot be used
        name = accounts.check_name(name)
        region = accounts.check_region(region)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _store(create=True) as store:
        try:
            accounts.create_user(store, name, role, region, password, datetime.now(TZ))
        except accounts.WeakPassword as exc:
            raise click.ClickException(f"password refused: {exc}") from None
        except ValueError as exc:  # UserExists among them
            raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} {name} for region {region or 'all'}")


@user_group.command("list")
@with_appcontext
def user_list():
    """List staff users.

    Example:

    \b
        flask --app app user list
    """
    with _store() as store:
        for u in store.users():
            state = f"disabled {u.disabled_at}" if u.disabled_at else "active"
            click.echo(f"{u.name:<24} {u.role:<8} {u.region or 'all':<7} {state}")


@user_group.command("disable")
@click.argument("name")
@with_appcontext
def user_disable(name):
    """Disable a user: their sessions and tokens stop working at once.

    Example:

    \b
        flask --app app user disable xining-audit
    """
    with _store() as store:
        if not store.disable_user(name, _now()):
            raise click.ClickException(f"no active user {name}")
    click.echo(f"Disabled {name}; their sessions and tokens are ended")


@user_group.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke all of the user's tokens instead.")
@with_appcontext
def user_token(name, revoke):
    """Print a new API token for a user (shown once, stored hashed), or revoke theirs.

    Example:

    \b
        flask --app app user token xining-audit
    """
    with _store() as store:
        found = store.user_login(name)
        if not found or found[0].disabled_at:
            raise click.ClickException(f"no active user {name}")
        if revoke:
            click.echo(f"Revoked {store.revoke_tokens(found[0].id, _now())} token(s) of {name}")
            return
        token, digest = accounts.new_token()
        store.add_token(found[0].id, digest, _now())
    click.echo(token)


@user_group.command("set-password")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from standard input instead of a prompt.",
)
@with_appcontext
def user_set_password(name, password_stdin):
    """Give a user a new password (same rules as create); ends all of their sessions.

    The password is prompted twice, hidden (or read from stdin). API tokens are kept: revoke
    them with `user token NAME --revoke`.

    Example:

    \b
        flask --app app user set-password xining-audit
    """
    with _store() as store:
        try:  # before the prompt: nobody types a password for a user who does not exist
            user = accounts.find_user(store, name)
        except ValueError as exc:  # UnknownUser among them
            raise click.ClickException(str(exc)) from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        try:
            user, ended = accounts.set_password(store, user.name, password, datetime.now(TZ))
        except accounts.WeakPassword as exc:
            raise click.ClickException(f"password refused: {exc}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    note = " (the account stays disabled)" if user.disabled_at else ""
    click.echo(f"New password set for {user.name}; {ended} session(s) ended{note}")


@click.group("region")
def region_group():
    """Regions' default audit profile: which standard a district's audits start from.

    Example:

    \b
        flask --app app region set-profile 6301 liuyou_b
    """


@region_group.command("set-profile")
@click.argument("adcode")
@click.argument("profile")
@with_appcontext
def region_set_profile(adcode, profile):
    """Set a region's default audit profile (ADCODE: 2, 4 or 6 digits, or "" for all).

    PROFILE is a key from seeds/standards.json; `region show` lists them. Districts take the
    profile of the longest region prefix given one; an audit may still pick another.

    Example:

    \b
        flask --app app region set-profile 6301 liuyou_b
    """
    with _store() as store:
        try:
            done = region_profiles.set_default(store, adcode, profile)
        except ValueError as exc:  # UnknownProfile among them
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"{_region_text(done.region, done.name)}: default profile {_profile_text(done.profile)}"
    )


@region_group.command("show")
@click.argument("adcode", required=False, default=None)
@with_appcontext
def region_show(adcode):
    """Show the regions' default audit profiles (or the one a region's audits start from).

    Example:

    \b
        flask --app app region show 630102
    """
    with _store() as store:
        if adcode is not None:
            try:
                region = accounts.check_region(adcode)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            found = region_profiles.default_of(store, region)
            origin = "set here" if found.own else "inherited"
            click.echo(
                f"{_region_text(found.region, found.name)}: {_profile_text(found.profile)} ({origin})"
            )
            return
        own = store.region_profiles()
        for region in own:
            found = region_profiles.default_of(store, region, own)
            click.echo(f"{_region_text(region, found.name)}: {_profile_text(found.profile)}")
    click.echo(f"Profiles: {', '.join(_profile_text(k) for k in standards.profiles())}")


def _region_text(region: str, name: str) -> str:
    return f"{region} {name}" if region else "all (whole country)"


def _profile_text(key: str) -> str:
    found = standards.profiles().get(key)
    return f"{key} ({found.zh} / {found.en})" if found else key


@click.group("key")
def key_group():
    """Partners' API keys: a higher rate limit, optionally scoped to a region.

    Example:

    \b
        flask --app app key create hefei-portal --region 3401
    """


@key_group.command("create")
@click.argument("partner")
@click.option(
    "--region", default="", help="Adcode prefix the key may read; empty = the whole registry."
)
@with_appcontext
def key_create(partner, region):
    """Print a new API key for a partner (shown once, stored hashed).

    Example:

    \b
        flask --app app key create hefei-portal --region 3401
    """
    try:
        partner = accounts.check_name(partner)
        region = accounts.check_region(region)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    key, digest = accounts.new_token()
    with _store(create=True) as store:
        store.add_api_key(partner, digest, region, _now())
    click.echo(key)


@key_group.command("list")
@with_appcontext
def key_list():
    """List partners' keys (never the keys themselves).

    Example:

    \b
        flask --app app key list
    """
    with _store() as store:
        for k in store.api_keys():
            state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
            click.echo(f"{k.partner:<24} {k.region or 'all':<7} {k.created_at}  {state}")


@key_group.command("revoke")
@click.argument("partner")
@with_appcontext
def key_revoke(partner):
    """Revoke every key of a partner.

    Example:

    \b
        flask --app app key revoke hefei-portal
    """
    with _store() as store:
        count = store.revoke_api_keys(partner, _now())
    if not count:
        raise click.ClickException(f"no active key for {partner}")
    click.echo(f"Revoked {count} key(s) of {partner}")


@click.command("copy-db")
@with_appcontext
@click.option(
    "--to",
    "target",
    required=True,
    metavar="postgresql://USER@HOST:PORT/DBNAME",
    help="An EMPTY PostgreSQL database (with PostGIS available); its schema is created.",
)
def copy_db_command(target):
    """Copy the SQLite registry (DATABASE_URL) into an empty PostgreSQL database.

    Copies stations, their history, check-ins and problem reports, staff users, sessions and
    API tokens, audits and their items, region profiles and partners' API keys, ids kept, in
    one transaction; then compares the row counts table by table. Any refusal or mismatch:
    exit code 1, and the target keeps none of the rows. Recent sign-in failures
    (login_attempts) are not copied: they only feed the sign-in rate limit.

    Audit photos are FILES in the instance folder (instance/evidence/), not rows: copy that
    folder to, or share it with, the app servers that will use PostgreSQL.

    Then set DATABASE_URL to the PostgreSQL URL.

    Example:

    \b
        flask --app app copy-db --to postgresql://yizhan@db.example:5432/yizhan
    """
    source = current_app.config["DATABASE_URL"]
    shown = source if source.startswith("sqlite:") else "DATABASE_URL"  # no password printed
    click.echo(f"Copying {shown} into PostgreSQL at {describe_target(target)}")
    progress: list[_Progress] = []

    def start(table: str, total: int):
        if progress:
            progress[-1].close()
        progress.append(_Progress(table, total))
        return progress[-1]

    try:
        report = copy_registry(source, target, progress=start)
    except CountMismatch as exc:
        _print_counts(exc.counts)
        raise click.ClickException(str(exc)) from None
    except CopyRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if progress:
            progress[-1].close()
    _print_counts(report.counts)
    for table, rows in report.skipped.items():
        click.echo(f"Not copied: {table} ({rows} rows): {SKIPPED[table]}")
    evidence = Path(current_app.instance_path) / "evidence"
    click.echo(
        f"Audit photos: {report.photos} audit item(s) name a file in {evidence}/; the files are "
        "not in the database: copy or share that folder with the app servers that will use "
        "PostgreSQL."
    )
    click.echo("Every table's count matches: the copy is committed.")


@click.command("coverage")
@with_appcontext
@click.argument("region")
@click.option("--radius", "radius_m", type=float, help="Service radius in metres (default 1000).")
@click.option(
    "--preset", type=click.Choice(list(PRESETS)), help="1km, or walk15: 15 minutes on foot."
)
@click.option("--only-24h", is_flag=True, help="Count only stations open 24 hours.")
@click.option(
    "--facility", "facilities", multiple=True, help="Count only stations offering it (repeatable)."
)
@click.option(
    "--spacing",
    "spacing_m",
    type=float,
    help="List pairs of stations closer than this (m, default 300).",
)
@click.option("--demand", help="Demand layer name, 'searches' or 'none' (default: chosen).")
@click.option(
    "--candidates", default="grid", show_default=True, help="'grid' or a candidates layer."
)
@click.option("--suggest", type=int, default=0, help="How many new sites to suggest.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), help="Write FILE.gpkg, .geojson or .xlsx."
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def coverage_command(
    region,
    radius_m,
    preset,
    only_24h,
    facilities,
    spacing_m,
    demand,
    candidates,
    suggest,
    out,
    lang,
):
    """How much of a region lies within reach of an open station, and where to build next.

    Example:

    \b
        flask --app app coverage 3401 --suggest 3 --out hefei.gpkg
    """
    out_path = Path(out) if out else None
    if out_path and out_path.suffix.lower() not in coverage_export.FORMATS:
        raise click.ClickException(f"--out must end in {', '.join(coverage_export.FORMATS)}")
    values = {
        "region": region,
        "radius_m": radius_m,
        "preset": preset,
        "only_24h": "1" if only_24h else "",
        "facilities": list(facilities),
        "spacing_m": spacing_m,
        "demand": demand,
        "candidates": candidates,
        "suggest": suggest,
    }
    try:
        query, options = coverage_report.parse(values)
    except Invalid as exc:
        raise click.ClickException(str(exc)) from None
    with _store() as store:
        try:
            report = coverage_report.build(
                store,
                query,
                today=datetime.now(TZ).date(),
                demand=options.demand,
                candidates=options.candidates,
                suggest=options.suggest,
                target=float(current_app.config["COVERAGE_TARGET"]),
            )
        except Invalid as exc:
            raise click.ClickException(str(exc)) from None
    _print_coverage(report, lang)
    if out_path:
        suffix = out_path.suffix.lower()
        if suffix == ".gpkg":
            coverage_export.write_gpkg(out_path, report, _now(), lang)
        elif suffix == ".geojson":
            coverage_export.write_geojson(out_path, report)
        else:
            coverage_export.write_xlsx(out_path, report, _now(), lang)
        click.echo(f"Wrote {out_path}")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _print_coverage(report, lang: str) -> None:
    q, total = report.coverage.query, report.coverage.total
    click.echo(
        f"{report.region_name} ({q.region}): {_percent(total.covered_share)} of "
        f"{total.area_km2:,.1f} km² within {q.radius_m:.0f} m of an open station "
        f"({total.stations} stations); demand: {coverage_export.describe_demand(report, lang)}"
    )
    click.echo(
        f"{'adcode':<8} {'district':<14} {'area':>7} {'demand':>7} {'stations':>8} {'per km²':>8} {'close':>6}"
    )
    for d in [*report.coverage.districts, total]:
        click.echo(
            f"{d.adcode:<8} {d.name[:12]:<14} {_percent(d.covered_share):>7} "
            f"{_percent(d.demand_share):>7} {d.stations:>8} {d.density:>8.2f} {d.redundant_pairs:>6}"
        )
    click.echo(
        f"Target: {_percent(report.progress)} of {report.measure} covered, aiming for {_percent(report.target)}"
    )
    for s in report.suggestions:
        click.echo(
            f"Suggested site {s.rank}: {s.lat:.6f}, {s.lon:.6f} in {s.district} adds {s.adds:,.0f}"
            + (f" ({s.label})" if s.label else "")
        )


def _print_counts(counts: list[TableCount]) -> None:
    click.echo(f"{'table':<16} {'SQLite':>10} {'PostgreSQL':>11}")
    for c in counts:
        mark = "" if c.source == c.target else "  <- differs"
        click.echo(f"{c.table:<16} {c.source:>10} {c.target:>11}{mark}")


def _now() -> str:
    return datetime.now(TZ).isoformat(timespec="seconds")


DEMO_USERS = (("demo-admin", "admin", ""), ("demo-auditor", "auditor", "6301"))


def create_demo_users(store: AccountStore) -> list[tuple[str, str, str, str]]:
    """Demo accounts with fresh random passwords, returned to print once; none if they exist."""
    made = []
    for name, role, region in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        try:
            accounts.create_user(store, name, role, region, password, datetime.now(TZ))
        except accounts.UserExists:
            continue
        made.append((name, role, region, password))
    return made


def write_demo_passwords(path: Path, made: list[tuple[str, str, str, str]]) -> Path:
    """The demo accounts and their passwords in a file of mode 600 (replaced if it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have had a wider mode
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(
            "# Yizhan demo staff accounts (FICTITIOUS demo data), created by `seed`.\n"
            "# Sign in at /login. Change one with: flask --app app user set-password NAME\n"
        )
        for name, role, region, password in made:
            f.write(f"{name}\t{password}\t{role}\t{region or 'all'}\n")
    return path.resolve()


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup_command(file: str, force: bool):
    """Copy the database to FILE while servers keep serving: one consistent moment, checked
    (integrity_check) before it is renamed into place. SQLite: a database file; PostgreSQL:
    a pg_dump archive (custom format).

    Example:

    \b
        flask --app app backup backups/yizhan-2026-11-20.db
    """
    try:
        report = backups.backup(current_app.config["DATABASE_URL"], file, force=force)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backup written: {file} ({report.size / 1e6:.1f} MB in {report.seconds:.1f} s,"
        f" integrity {report.integrity})"
    )
    if report.counts:
        click.echo(f"Rows: {_counts_line(report.counts)}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file: str, yes: bool):
    """Replace the whole database by the backup FILE, all or nothing, after checking that
    FILE is a Yizhan backup that passes integrity_check. Servers read the restored registry
    from their next request; restart them afterwards so their in-memory index is rebuilt.

    Example:

    \b
        flask --app app restore backups/yizhan-2026-11-20.db
    """
    if not yes:
        click.confirm(
            "Replace every station, account and record in the database by the backup?",
            abort=True,
        )
    try:
        report = backups.restore(current_app.config["DATABASE_URL"], file)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if report.integrity != "ok":
        raise click.ClickException(f"the restored database failed its check: {report.integrity}")
    click.echo(f"Restored from {file} in {report.seconds:.1f} s (integrity {report.integrity})")
    click.echo(f"Rows: {_counts_line(report.counts)}")
    click.echo(
        "Restart the servers (e.g. make run, or systemctl restart) to rebuild their map index."
    )


COMMANDS = (
    init_db_command,
    seed_command,
    import_command,
    import_demand_command,
    demand_layers_command,
    export_command,
    stats_command,
    user_group,
    region_group,
    key_group,
    copy_db_command,
    coverage_command,
    backup_command,
    restore_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
