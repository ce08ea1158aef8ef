"""Web plumbing shared by every pillar: middleware, forms, templates, fragments, routing and common helpers."""

from community.platform.web import ids  # noqa: F401  (registers the `dbid` path convertor before any route module builds its routes)
