"""The SQLite store: connections, group commit, migrations, and the SQL by concern."""
