"""The SQLite schema's whole history. Add a function per change; never edit an applied one."""

from sqlite_utils import Migrations

migrations = Migrations("yizhan")


@migrations()
def m001_stations(db):
    db.executescript(
        """
        create table stations (
            id integer primary key,
            code text not null unique,
            name text not null,
            name_key text not null,            -- text.match_key(name), for duplicate checks
            address text not null default '',
            adcode text not null check (length(adcode) = 6),
            province text not null,
            city text not null,
            district text not null,
            host_type text not null,
            brand text not null default '',
            lat real not null check (lat between -90 and 90),    -- WGS-84 only
            lon real not null check (lon between -180 and 180),  -- WGS-84 only
            coord_source text not null check (coord_source in ('wgs84', 'gcj02', 'bd09')),
            source_lat real,
            source_lon real,
            opening_hours text not null default '',
            facilities text not null default '[]',  -- JSON array of vocab keys
            entry_method text not null,
            status text not null check (status in ('planned', 'open', 'temporarily_closed', 'closed')),
            closed_until text,
            manager_name text not null default '',
            manager_phone text not null default '',
            verified_at text,
            created_at text not null,
            updated_at text not null,
            version integer not null default 1
        );
        create index stations_adcode on stations (adcode);
        create index stations_updated_at on stations (updated_at);

        -- Spatial prefilter, kept in step with stations by triggers.
        create virtual table stations_rtree using rtree (id, min_lon, max_lon, min_lat, max_lat);
        create trigger stations_rtree_insert after insert on stations begin
            insert into stations_rtree values (new.id, new.lon, new.lon, new.lat, new.lat);
        end;
        create trigger stations_rtree_update after update of lat, lon on stations begin
            update stations_rtree set min_lon = new.lon, max_lon = new.lon,
                min_lat = new.lat, max_lat = new.lat where id = new.id;
        end;
        create trigger stations_rtree_delete after delete on stations begin
            delete from stations_rtree where id = old.id;
        end;
        """
    )


@migrations()
def m002_revision_and_checkins(db):
    db.executescript(
        """
        -- A counter bumped by every change to stations, so in-memory indexes (the locator)
        -- and HTTP caches can tell cheaply whether they are stale.
        create table registry_revision (id integer primary key check (id = 1), revision integer not null);
        insert into registry_revision values (1, 0);
        create trigger stations_revision_insert after insert on stations begin
            update registry_revision set revision = revision + 1 where id = 1;
        end;
        create trigger stations_revision_update after update on stations begin
            update registry_revision set revision = revision + 1 where id = 1;
        end;
        create trigger stations_revision_delete after delete on stations begin
            update registry_revision set revision = revision + 1 where id = 1;
        end;

        -- One-tap reports from workers. client_hash is a keyed hash of the client: never an IP.
        create table checkins (
            id integer primary key,
            station_id integer not null references stations (id) on delete cascade,
            kind text not null,
            facility text,
            client_hash text not null,
            created_at text not null,
            resolved_at text,
            resolution text
        );
        create index checkins_station on checkins (station_id, created_at);
        create index checkins_client on checkins (client_hash, created_at);
        """
    )


@migrations()
def m003_staff(db):
    db.executescript(
        """
        create table users (
            id integer primary key,
            name text not null unique,
            password_hash text not null,            -- argon2id
            role text not null check (role in ('admin', 'auditor', 'viewer')),
            region text not null check (region = '' or length(region) in (2, 4, 6)),  -- adcode prefix; '' = national
            disabled_at text,
            created_at text not null
        );

        -- Server-side sessions: a cookie holds only the random id; logout and disabling end a
        -- session here, so a copied cookie stops working at once.
        create table staff_sessions (
            id text primary key,
            user_id integer not null references users (id) on delete cascade,
            created_at text not null,
            last_seen text not null,
            ended_at text
        );
        create index staff_sessions_user on staff_sessions (user_id);

        create table api_tokens (
            id integer primary key,
            user_id integer not null references users (id) on delete cascade,
            token_hash text not null unique,        -- sha256 of the token; the token is shown once
            created_at text not null,
            revoked_at text,
            last_used_at text
        );

        create table login_attempts (
            key text not null,                     -- a keyed hash of the client, or of the name
            at text not null
        );
        create index login_attempts_key on login_attempts (key, at);

        -- Every change to a station, who made it, before and after. Never edited.
        create table station_changes (
            id integer primary key,
            station_id integer not null references stations (id),
            user_id integer references users (id),  -- null: the command line
            actor text not null,
            at text not null,
            action text not null,
            before text,                            -- JSON of the changed fields
            after text
        );
        create index station_changes_station on station_changes (station_id, id);
        create trigger station_changes_no_update before update on station_changes begin
            select raise(abort, 'station history cannot be changed');
        end;
        create trigger station_changes_no_delete before delete on station_changes begin
            select raise(abort, 'station history cannot be deleted');
        end;

        create table audits (
            id integer primary key,
            station_id integer not null references stations (id),
            user_id integer not null references users (id),
            profile text not null,
            visited_on text not null,
            visit_kind text not null check (visit_kind in ('scheduled', 'unannounced')),
            score real not null,                    -- passed / applicable items
            passed integer not null,
            created_at text not null
        );
        create index audits_station on audits (station_id, visited_on);
        create table audit_items (
            audit_id integer not null references audits (id) on delete cascade,
            item text not null,
            result text not null check (result in ('pass', 'fail', 'na')),
            note text not null default '',
            photo text,                             -- a random file name under instance/evidence
            valid_until text,                       -- e.g. medicines' use-by date
            primary key (audit_id, item)
        );

        -- Which standard a region audits against (longest adcode prefix wins).
        create table region_profiles (
            region text primary key,
            profile text not null
        );
        insert into region_profiles values ('', 'liuyou_a');

        -- The problem-report loop on check-ins.
        alter table checkins add column status text not null default 'new'
            check (status in ('new', 'acknowledged', 'resolved', 'rejected'));
        alter table checkins add column status_at text;
        alter table checkins add column handled_by integer references users (id);
        """
    )
    # Positive check-ins are not problems to handle.
    db.execute("update checkins set status = 'resolved', status_at = created_at where kind = 'ok'")


@migrations()
def m004_api_keys(db):
    db.executescript(
        """
        -- Partners' API keys: a higher rate limit, optionally one region. Stored as sha256.
        create table api_keys (
            id integer primary key,
            partner text not null,
            key_hash text not null unique,
            region text not null default '',
            created_at text not null,
            revoked_at text
        );
        """
    )


@migrations()
def m005_index_changes(db):
    db.executescript(
        """
        -- The in-memory spatial index follows this log instead of a registry-wide counter:
        -- only the fields it uses move it, so a rider's check-in (verified_at) or a staff
        -- edit of a name or phone number costs the index nothing.
        drop trigger if exists stations_revision_insert;
        drop trigger if exists stations_revision_update;
        drop trigger if exists stations_revision_delete;
        drop table if exists registry_revision;

        create table index_changes (
            seq integer primary key autoincrement,
            station_id integer not null
        );
        create trigger stations_index_insert after insert on stations begin
            insert into index_changes (station_id) values (new.id);
        end;
        create trigger stations_index_update after update on stations
        when old.lat is not new.lat or old.lon is not new.lon or old.status is not new.status
            or old.opening_hours is not new.opening_hours or old.facilities is not new.facilities
            or old.adcode is not new.adcode
        begin
            insert into index_changes (station_id) values (new.id);
        end;
        create trigger stations_index_delete after delete on stations begin
            insert into index_changes (station_id) values (old.id);
        end;
        -- A bounded log: a process further behind than this rebuilds from the table.
        create trigger index_changes_prune after insert on index_changes begin
            delete from index_changes where seq <= new.seq - 200000;
        end;
        """
    )


@migrations()
def m006_planning(db):
    db.executescript(
        """
        -- The search log: how many nearest searches each ~500 m grid cell saw a day, and how
        -- many found no station near (core/demand.py's grid). Never a point, an address or a
        -- client: the row and column are all that is kept of where a search was made.
        create table search_cells (
            day text not null,                  -- ISO date, China time
            cell_row integer not null,
            cell_col integer not null,
            searches integer not null check (searches > 0),
            unmet integer not null check (unmet between 0 and searches),
            primary key (day, cell_row, cell_col)
        );
        create index search_cells_cell on search_cells (cell_row, cell_col);

        -- Imported demand (weighted points) and candidate sites, replaced whole by name.
        create table demand_layers (
            id integer primary key,
            name text not null unique,
            kind text not null check (kind in ('demand', 'candidates')),
            fictitious integer not null default 0 check (fictitious in (0, 1)),  -- demo data
            points integer not null,
            total_weight real not null,
            imported_at text not null
        );
        create table demand_points (
            id integer primary key,
            layer_id integer not null references demand_layers (id) on delete cascade,
            lat real not null check (lat between -90 and 90),    -- WGS-84 only
            lon real not null check (lon between -180 and 180),  -- WGS-84 only
            weight real not null check (weight > 0),
            label text not null default '',
            adcode text not null default ''
        );
        create index demand_points_layer on demand_points (layer_id, adcode);
        """
    )


@migrations()
def m007_checkin_devices(db):
    db.executescript(
        """
        -- Riders told apart by an anonymous device id (client_hash is now a keyed hash of it;
        -- older rows keep the hash of address and browser); the network address only as a
        -- keyed hash, for a limit shared by everyone behind it ('' on older rows).
        alter table checkins add column address_hash text not null default '';
        -- The form's one-time token: the same one again from the same client is a repeat.
        alter table checkins add column submission text;
        -- A problem reported while the station was closed by its hours, by one device only:
        -- staff see it, workers are not warned until a second device confirms it.
        alter table checkins add column pending integer not null default 0 check (pending in (0, 1));
        create unique index checkins_submission on checkins (client_hash, submission);
        create index checkins_address on checkins (address_hash, created_at);
        """
    )


@migrations()
def m008_import_jobs(db):
    db.executescript(
        """
        -- Staff imports run as jobs outside the request (core/import_jobs.py): their phase,
        -- progress and result here, so a poll answered by any app server process sees them.
        create table import_jobs (
            id integer primary key,
            owner_id integer not null references users (id),
            region text not null,             -- the owner's region when it started
            file_name text not null,          -- as the user named it, never a server path
            apply integer not null check (apply in (0, 1)),
            phase text not null check (
                phase in ('reading', 'checking', 'applying', 'done', 'refused', 'failed')),
            done integer not null default 0,
            total integer,                    -- null while unknown
            message text not null default '',
            result text not null default '{}', -- JSON: counts, bad rows, warnings, applied
            started_at text not null,
            heartbeat_at text not null        -- a running job's last sign of life
        );
        create index import_jobs_owner on import_jobs (owner_id, started_at);
        """
    )
