"""The hall document: what a hall file (or the database's copy) says, checked, and how admins edit it."""
