"""The web application: a JSON API (``api/``) and server-rendered pages (``ui/``)."""

from smartcustoms.web.app import create_app

__all__ = ["create_app"]
