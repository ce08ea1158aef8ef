"""SQLAlchemy tables, one module per domain; importing this package registers them all."""

from community.models import accounts, moderation  # noqa: F401  (register tables)
from community.models.base import Base

__all__ = ["Base"]
