"""HTTP endpoints per domain; each module exports `routes`."""

from community.web import ids  # noqa: F401  (registers the `dbid` path convertor before any route is built)
