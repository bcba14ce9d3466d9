"""What a store raises, in one leaf module: implementations import these without importing the
package that picks them (`open_store`), so the store has no import cycle."""


class StoreError(RuntimeError):
    """A failure the user can act on (full disk, locked database); the message says which."""


class StoreFull(StoreError):
    pass


class StoreBusy(StoreError):
    pass


class VersionConflict(StoreError):
    """Someone else saved the station since it was read (optimistic concurrency)."""


class StoreReadOnly(StoreError):
    """The database can be read but not written (a read-only file, filesystem or server)."""


class StoreMissing(StoreError):
    """The database is not there (its file deleted or never created): the store never creates
    one in its place; only `flask --app app init-db` does."""
