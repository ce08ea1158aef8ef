"""The registry of moderatable content kinds: each pillar registers an adapter for its own content.

The review queue and moderation decisions work through these adapters only. An adapter for anonymous content
must never put the author's identity in a TargetView: `author_label` is the pseudonym and `author_id` is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class TargetView:
    kind: str
    id: int
    title: str                 # e.g. "Reply in “Scripted empathy on my peds rotation”"
    body_html: str             # sanitized HTML, as stored
    url: str                   # where the content is shown in context
    author_label: str          # display name, or a pseudonym for anonymous content
    author_id: int | None      # None for anonymous content: moderators never learn the author
    state: str                 # "visible" | "hidden" | "removed" | "pending"
    created_at: datetime
    anonymous: bool = False
    context_html: str = ""     # optional surrounding context (the parent post, previous messages)
    extra: dict[str, object] = field(default_factory=dict)


class TargetAdapter(Protocol):
    kind: str

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        """Loads many targets in a fixed number of queries (the queue page shows many)."""
        ...

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        """Applies hide / remove / restore ("visible") / approve ("visible" from "pending")."""
        ...

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        """The author's member id for sanctions; for anonymous content it unseals internally.
        The result is used only to act (silence, suspend, message); it is never shown or logged."""
        ...

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        """Sends the author a notification; for anonymous content, addressed to the sealed tag only."""
        ...


_ADAPTERS: dict[str, TargetAdapter] = {}


def register(adapter: TargetAdapter) -> TargetAdapter:
    _ADAPTERS[adapter.kind] = adapter
    return adapter


def adapter_for(kind: str) -> TargetAdapter:
    _load_all()
    return _ADAPTERS[kind]


def all_adapters() -> dict[str, TargetAdapter]:
    _load_all()
    return dict(_ADAPTERS)


def _load_all() -> None:
    """Adapters register when their domain module is imported; import the known ones lazily."""
    import importlib

    for name in ("community.actions.discussions", "community.actions.reflections", "community.actions.rooms"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
