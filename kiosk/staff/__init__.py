"""Staff accounts: passwords, sessions, roles."""
