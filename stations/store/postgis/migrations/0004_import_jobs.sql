-- Staff imports run as jobs outside the request, as the SQLite store's migration m008.
create table import_jobs (
    id bigint generated always as identity primary key,
    owner_id bigint not null references users (id),
    region text collate "C" not null,       -- the owner's region when it started
    file_name text not null,                -- as the user named it, never a server path
    apply boolean not null,
    phase text not null check (
        phase in ('reading', 'checking', 'applying', 'done', 'refused', 'failed')),
    done integer not null default 0,
    total integer,                          -- null while unknown
    message text not null default '',
    result text not null default '{}',      -- JSON: counts, bad rows, warnings, applied
    started_at text not null,
    heartbeat_at text not null              -- a running job's last sign of life
);
create index import_jobs_owner on import_jobs (owner_id, started_at);
