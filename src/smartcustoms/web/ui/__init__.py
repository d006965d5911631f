"""Server-rendered pages: Jinja2 templates, HTMX, vendored static files."""
