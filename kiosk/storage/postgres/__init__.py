"""The PostgreSQL store: one database for many halls (a schema each) and several server processes
per hall (docs/postgres.md). The SQL by concern is the SQLite store's, translated once per statement
(`connection.py`); what PostgreSQL says differently is in `queries.py`."""
