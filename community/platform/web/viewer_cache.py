"""Signed-in members by session token, kept in each process while PostgreSQL says nothing about them changed.

Without it every request pays a round trip (the session joined to its member, with the unread count) before
its page's own statement. With it, a member's next requests use the snapshot loaded by the first, and
PostgreSQL's triggers (migration 0009) say, over LISTEN on one connection per process, whose snapshot is out of
date: `u:<member id>`, `t:<sealed tag>` (notifications addressed to one of an anonymous writer's scope tags: an
entry is indexed by every tag of the member's keyring that its load found, accounts.scopes), or `*`.

What keeps it correct:
- Entries are used only while the listening connection is up. When it drops, every entry is dropped and none
  is used or stored until it listens again (a change committed meanwhile was never heard).
- Every message bumps `generation`. A lookup that started before a message arrived is not stored (the row it
  read may be the one that changed), so a change is never lost to a race with a concurrent load.
- A session's expiry is checked locally on every hit; suspended or deleted members are never stored.
- Read-your-writes across processes: a member's own POST (on any process) gives their browser a new `stamp`
  cookie, and an entry is used only for the stamp it was loaded with. Their next page, wherever it lands, loads
  afresh, without waiting for the NOTIFY from their own change to arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from community.platform.listening import Listener
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer

CHANNEL = "viewer_changes"
APPLICATION_NAME = "community-viewer-cache"


@dataclass(slots=True)
class _Entry:
    viewer: Viewer
    stamp: str
    tags: tuple[str, ...]


class ViewerCache:
    def __init__(self, url: str, *, size: int = 20000) -> None:
        self.url = url
        self.size = size
        self.entries: dict[str, _Entry] = {}
        self.by_member: dict[int, set[str]] = {}
        self.by_tag: dict[str, set[str]] = {}
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self.listening = False
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._listener = Listener(url, CHANNEL, lambda payload: self.changed(payload), application_name=APPLICATION_NAME,
                                  label="viewer cache", on_up=self._up, on_down=self._down)

    # ---- lookups --------------------------------------------------------------------------------------------
    def get(self, token: str, stamp: str) -> Viewer | None:
        entry = self.entries.get(token) if self.listening else None
        if entry is None or entry.stamp != stamp:
            self.misses += 1
            return None
        if entry.viewer.session_expires_at <= datetime.now(UTC):
            self.forget(token)
            self.misses += 1
            return None
        self.hits += 1
        return entry.viewer

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "entries": len(self.entries)}

    def put(self, token: str, stamp: str, viewer: Viewer, tags: tuple[str, ...], generation: int) -> None:
        """Stores what a lookup that began at `generation` read, unless anything changed since it began.

        `tags`: the member's scope tags. A scope the member adds later comes from their own request, which gives
        them a new stamp, so this entry is not used again once a tag is missing from it."""
        if not self.listening or generation != self.generation or viewer.session_expires_at is None:
            return
        self.forget(token)
        while len(self.entries) >= self.size:
            self.forget(next(iter(self.entries)))
        self.entries[token] = _Entry(viewer, stamp, tags)
        self.by_member.setdefault(viewer.id, set()).add(token)
        for tag in tags:
            self.by_tag.setdefault(tag, set()).add(token)

    def forget(self, token: str) -> None:
        entry = self.entries.pop(token, None)
        if entry is None:
            return
        keys = [(self.by_member, entry.viewer.id)] + [(self.by_tag, tag) for tag in entry.tags]
        for index, key in keys:
            tokens = index.get(key)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del index[key]

    def clear(self) -> None:
        self.generation += 1
        self.entries.clear()
        self.by_member.clear()
        self.by_tag.clear()

    def changed(self, payload: str) -> None:
        """A message from the triggers: drop every entry it may concern."""
        self.generation += 1
        kind, _, key = payload.partition(":")
        if kind == "u" and (member := parse_int(key)) is not None:
            tokens = self.by_member.get(member, ())
        elif kind == "t":
            tokens = self.by_tag.get(key, ())
        else:
            self.clear()
            return
        for token in tuple(tokens):
            self.forget(token)

    # ---- the listening connection ---------------------------------------------------------------------------
    async def start(self, wait: float = 10.0) -> None:
        self._task = asyncio.create_task(self._listener.run(), name="viewer-cache-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), wait)

    async def stop(self) -> None:
        self._listener.stopping = True
        self._down()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _up(self) -> None:
        self.clear()  # anything stored before now was read while nobody listened
        self.listening = True
        self._ready.set()

    def _down(self) -> None:
        self.listening = False
        self.clear()
