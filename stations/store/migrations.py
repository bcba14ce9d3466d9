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
