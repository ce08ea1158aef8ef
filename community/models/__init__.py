"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

import importlib

from community.models import accounts, moderation  # noqa: F401  (register tables)
from community.models.base import Base

# Domain modules are added as the pillars land; each one registers its tables on import.
for _name in ("discussions", "reflections", "rooms"):
    try:
        importlib.import_module(f"community.models.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"community.models.{_name}":
            raise

__all__ = ["Base"]
