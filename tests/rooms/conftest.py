"""Live-room fixtures: real `community serve` processes, members signed in by session rows made directly in the
cloned database, and `websockets` clients. Every wait is bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from community.platform.accounts.models import Session
from community.platform.accounts.security import new_token, token_hash
from community.platform.db import Database, asyncpg_args
from community.rooms.models import Room
from tests.conftest import create_member

LIVE_ANON_KEY = "live-anon-key-" + "a" * 40  # what LiveServer gives its processes


@dataclass
class Member:
    user: Any
    token: str
    frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cookie(self) -> str:
        return f"session={self.token}"


async def recv(ws: ClientConnection, within: float = 15.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), within)
    return json.loads(raw)


async def recv_until(ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], within: float = 20.0,
                     seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Receives frames until one matches (returned); every frame is appended to `seen`."""
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await ws.recv())
            if seen is not None:
                seen.append(frame)
            if predicate(frame):
                return frame


async def until_closed(ws: ClientConnection, within: float = 10.0) -> ConnectionClosed:
    """Reads until the server closes the socket, and returns how it closed (its code and reason)."""
    with pytest.raises(ConnectionClosed) as raised:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return raised.value


async def quiet(ws: ClientConnection, seconds: float = 0.5) -> list[dict[str, Any]]:
    """Everything that arrives within `seconds`."""
    frames = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(json.loads(await ws.recv()))
    except TimeoutError:
        pass
    return frames


def apply_presence(people: dict[int, dict[str, Any]], frame: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """What the browser does with a presence frame: the whole list (`people`), or changes (`joined`, `left`)."""
    if "people" in frame:
        people.clear()
        people.update({p["pid"]: p for p in frame["people"]})
    for p in frame.get("joined", ()):
        people[p["pid"]] = p
    for pid in frame.get("left", ()):
        people.pop(pid, None)
    return people


async def presence_until(ws: ClientConnection, predicate: Callable[[dict[int, dict[str, Any]]], bool],
                         people: dict[int, dict[str, Any]] | None = None, seen: list[dict[str, Any]] | None = None,
                         within: float = 20.0) -> dict[int, dict[str, Any]]:
    """Applies the presence frames in `seen` (if given), then receives until the list satisfies `predicate`."""
    people = {} if people is None else people
    for frame in seen or ():
        if frame.get("type") == "presence":
            apply_presence(people, frame)
    if predicate(people):
        return people
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "presence" and predicate(apply_presence(people, frame)):
                return people


def is_message(text_: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == "message" and (text_ is None or text_ in f.get("html", ""))


class RoomsEnv:
    def __init__(self, url: str, factory: Callable[..., Any]) -> None:
        self.url = url
        self.factory = factory
        self.db = Database(url, pool_size=2)
        self.sockets: list[ClientConnection] = []

    def server(self, **env: str) -> Any:
        return self.factory(self.url, extra_env=env or None)

    async def member(self, role: str = "resident", **fields: Any) -> Member:
        user = await create_member(self.db, role, **fields)
        token = new_token()
        async with self.db.transaction() as session:
            # Checked a second factor just now, as staff must have before any page or socket (web.factor_guard).
            session.add(Session(token_hash=token_hash(token), user_id=user.id, factor_at=datetime.now(UTC),
                                expires_at=datetime.now(UTC) + timedelta(days=1)))
        return Member(user, token)

    async def room_id(self, slug: str = "night-float-lounge") -> int:
        async with self.db.transaction() as session:
            return (await session.scalars(select(Room.id).where(Room.slug == slug))).one()

    async def scheduled_room(self, host: Member | None, **fields: Any) -> int:
        now = datetime.now(UTC)
        values = {"kind": "scheduled", "title": "Tuesday debrief", "ground_rules": "Be kind. No identifiers.",
                  "starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(hours=1), "state": "scheduled",
                  "capacity": 10, "host_id": host.user.id if host else None, **fields}
        async with self.db.transaction() as session:
            room = Room(**values)
            session.add(room)
            await session.flush()
            return room.id

    async def join(self, server: Any, member: Member, room_id: int, *, anonymous: bool = False) -> None:
        async with httpx.AsyncClient(base_url=server.url) as client:
            client.cookies.set("session", member.token)
            page = await client.get(f"/rooms/{room_id}")
            assert page.status_code == 200, page.text[:300]
            response = await client.post(f"/rooms/{room_id}/join", data={
                "csrf_token": client.cookies.get("csrf"), "accept": "1", "as": "pseudonym" if anonymous else "name"},
                headers={"origin": server.url})
            assert response.status_code == 303, response.text[:500]

    async def ws(self, server: Any, member: Member | None, room_id: int, *, after: int | None = None,
                 origin: str | None = None, welcome: bool = True, **kwargs: Any) -> ClientConnection:
        url = server.url.replace("http://", "ws://") + f"/rooms/{room_id}/ws"
        if after is not None:
            url += f"?after={after}"
        headers = {"Origin": origin or server.url}
        if member is not None:
            headers["Cookie"] = member.cookie
        ws = await connect(url, additional_headers=headers, open_timeout=10, close_timeout=2, **kwargs)
        self.sockets.append(ws)
        if welcome:
            frame = await recv(ws)
            assert frame["type"] == "welcome", frame
            history = await recv_until(ws, lambda f: f["type"] == "history")
            ws.welcome = frame  # type: ignore[attr-defined]
            ws.history = history  # type: ignore[attr-defined]
        return ws

    async def send(self, ws: ClientConnection, body: str, client_id: str, **extra: Any) -> None:
        await ws.send(json.dumps({"type": "send", "client_id": client_id, "text": body, **extra}))

    async def sql(self, statement: str, **params: Any) -> Any:
        async with self.db.transaction() as session:
            result = await session.execute(text(statement), params)
            return result.all() if result.returns_rows else []

    async def close(self) -> None:
        for ws in self.sockets:
            ws.transport.abort()
        await self.db.dispose()


class Outage:
    """One database's outage: new connections refused, open ones terminated; then allowed again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = url.rsplit("/", 1)[1].split("?")[0]

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(**{**asyncpg_args(self.url), "database": "postgres"})
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def begin(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
                          f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'")

    async def end(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


@pytest.fixture
async def rooms_env(live_database: str, live_server_factory) -> AsyncIterator[RoomsEnv]:
    env = RoomsEnv(live_database, live_server_factory)
    try:
        yield env
    finally:
        await env.close()
