"""Who is making a request: a small immutable snapshot, never a live ORM object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

ROLE_RANK = {"resident": 0, "attending": 1, "moderator": 2, "admin": 3}


@dataclass(frozen=True)
class Viewer:
    id: int
    display_name: str
    handle: str
    role: str
    email: str
    timezone: str = "UTC"
    session_id: int | None = None
    silenced_until: datetime | None = None
    created_at: datetime | None = None
    unread: int = 0  # unread notifications, loaded with the session in one query
    session_expires_at: datetime | None = None  # the earlier of its end and its idle limit (staff)
    session_seen_at: datetime | None = None  # the session's last_seen_at as loaded
    # Second factors (accounts.factors): whether the member has one, and when this session last checked one.
    has_factor: bool = False
    factor_at: datetime | None = None
    factor_pending: bool = False  # a half-session: password given, second factor not yet

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_host(self) -> bool:
        return self.role in ("attending", "moderator", "admin")

    def is_silenced(self, now: datetime | None = None) -> bool:
        return self.silenced_until is not None and self.silenced_until > (now or datetime.now(UTC))
