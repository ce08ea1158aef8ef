"""Moderatable content kinds: each pillar hands create_app an adapter for its own content (Pillar.adapters).

The review queue and moderation decisions work through these adapters only. An adapter for anonymous content
must never put the author's identity in a TargetView: `author_label` is the pseudonym and `author_id` is None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.viewer import Viewer
from community.settings import Settings


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
    # Where to send someone who can no longer see the piece once it is hidden (the flagger whose flag hid it):
    # the thread of a reply, the wall for a reflection. Empty: `url` still shows something.
    back_url: str = ""


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

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """Whether a member who is not a moderator may read this visible target where it lives (a room message:
        a participant of its room who was not removed; a reply: the thread's rules too). The flag page shows
        content only to those."""
        ...

    async def review_context(self, session: AsyncSession, viewer: Viewer, target_id: int) -> dict[str, Any]:
        """What this kind adds to its decision page (e.g. `categories` to move a thread to, `revisions`)."""
        ...


@dataclass(frozen=True)
class Review:
    """What a moderation decision needs from the app, built once by create_app: settings, every pillar's
    adapters, and the anonymity service (sanctions on anonymous writing seal their reasons)."""

    settings: Settings
    targets: Targets
    anonymity: Anonymity


class Targets:
    """The adapters of every moderatable kind, built once by create_app from the pillars' `adapters`."""

    def __init__(self, adapters: Iterable[TargetAdapter]) -> None:
        self._by_kind: dict[str, TargetAdapter] = {}
        for adapter in adapters:
            if adapter.kind in self._by_kind:
                raise ValueError(f"two moderation adapters for the kind {adapter.kind!r}")
            self._by_kind[adapter.kind] = adapter

    def get(self, kind: str) -> TargetAdapter | None:
        return self._by_kind.get(kind)

    def __getitem__(self, kind: str) -> TargetAdapter:
        return self._by_kind[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._by_kind

    def kinds(self) -> list[str]:
        return list(self._by_kind)
