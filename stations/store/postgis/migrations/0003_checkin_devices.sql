-- Check-ins from anonymous devices, repeats and corroboration, as the SQLite store's
-- migration m007.

-- Riders told apart by an anonymous device id (client_hash is now a keyed hash of it; older
-- rows keep the hash of address and browser); the network address only as a keyed hash, for a
-- limit shared by everyone behind it ('' on older rows).
alter table checkins add column address_hash text collate "C" not null default '';
-- The form's one-time token: the same one again from the same client is a repeat.
alter table checkins add column submission text collate "C";
-- A problem reported while the station was closed by its hours, by one device only: staff see
-- it, workers are not warned until a second device confirms it.
alter table checkins add column pending boolean not null default false;
create unique index checkins_submission on checkins (client_hash, submission);
create index checkins_address on checkins (address_hash, created_at);
