"""The PostgreSQL/PostGIS store: the same protocols as the SQLite store, for national scale.

One connection pool per database URL per process (pool.py); a store borrows a connection on
first use and hands it back at reset()/close(), so connections are held only during requests.
"""
