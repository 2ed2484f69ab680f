"""HTTP: routes, pages, event streams, middlewares, templates and static files."""
