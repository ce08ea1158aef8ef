"""The fault suite: real servers, real clients, every wait bounded; per client, loss, duplicates and order are
counted against the rows (the truth), across absences, resends, a late commit, a killed worker, a database
outage and a client that never reads.

Long absences are compressed: what 60 s or 10 minutes at 10 messages a second would write (600, 6,000 rows)
is written while the client is away in one statement, the way the server writes them (the room's next seqs,
then NOTIFY), while a live writer keeps sending 10 a second through the server the whole time.

The database outage is one database's: connections refused (ALLOW_CONNECTIONS false) and every open one
terminated, then allowed again. To the app that is what a stopped and restarted PostgreSQL looks like (its
connections drop, new ones are refused), without stopping the server that other test databases share.
`test_postgres_restart.py` really stops and starts PostgreSQL, on a cluster of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from community.platform.db import asyncpg_args
from community.rooms import protocol
from tests.rooms.conftest import Member, Outage, RoomsEnv, apply_presence, recv_until

pytestmark = pytest.mark.live


@dataclass
class Reader:
    """One client as room.js behaves: records every message it is shown, and resumes after the last seq."""

    env: RoomsEnv
    member: Member
    room: int
    seqs: list[int] = field(default_factory=list)
    last: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    ws: Any = None
    people: dict[int, Any] = field(default_factory=dict)
    server: Any = None  # where to resume after a close (1001, 1013, a killed worker), as room.js does
    reconnects: int = 0
    closes: list[int | None] = field(default_factory=list)

    def take(self, frame: dict[str, Any]) -> None:
        self.frames.append({k: v for k, v in frame.items() if k != "items"} | {"n": len(frame.get("items", ()))})
        if frame["type"] == "presence":
            apply_presence(self.people, frame)
        if frame["type"] == "message":
            self.seqs.append(frame["seq"])
        elif frame["type"] == "history":
            self.seqs.extend(i["seq"] for i in frame["items"] if i["type"] == "message")
            self.last = max(self.last, *(i["seq"] for i in frame["items"]), frame["last_seq"]) if frame["items"] \
                else max(self.last, frame["last_seq"])
        if "seq" in frame and frame["type"] in ("message", "event"):
            self.last = max(self.last, frame["seq"])

    async def connect(self, server: Any, *, fresh: bool = False) -> None:
        self.server = server
        self.ws = await self.env.ws(server, self.member, self.room, after=None if fresh else self.last,
                                    welcome=False)

    async def _next(self) -> dict[str, Any]:
        while True:
            try:
                return json.loads(await self.ws.recv())
            except ConnectionClosed as closed:
                self.reconnects += 1
                self.closes.append(closed.rcvd.code if closed.rcvd else None)
                await self.connect(self.server)

    async def read_until(self, seq: int, within: float = 30.0) -> None:
        async with asyncio.timeout(within):
            while self.last < seq:
                self.take(await self._next())

    async def until_people(self, predicate: Any, within: float) -> None:
        async with asyncio.timeout(within):
            while not predicate(self.people):
                self.take(await self._next())

    async def read_for(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    self.take(await self._next())

    def check(self, truth: list[int], since: int) -> None:
        shown = [s for s in self.seqs if s > since]
        assert len(shown) == len(set(shown)), f"duplicates: {len(shown) - len(set(shown))}"
        assert shown == sorted(shown), "out of order"
        missing = sorted(set(truth) - set(shown))
        assert not missing, f"lost {len(missing)}: {missing[:10]}"
        assert shown == truth


class Writer:
    """Sends `rate` messages a second through the server, each waiting for its ack, as room.js does: if the socket
    drops, it reconnects (to `servers`, in turn) and sends the unacked message again with the same client_id."""

    def __init__(self, env: RoomsEnv, ws: Any, prefix: str, rate: float = 10.0, *, member: Member | None = None,
                 room: int = 0, servers: tuple[Any, ...] = ()) -> None:
        self.env, self.ws, self.prefix, self.rate = env, ws, prefix, rate
        self.member, self.room, self.servers = member, room, servers
        self.acked: list[int] = []
        self.reconnects = 0
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            cid = f"{self.prefix}-{n}"
            try:
                await self.env.send(self.ws, f"{self.prefix} {n}", cid)
                ack = await recv_until(self.ws, lambda f, cid=cid: f["type"] == "ack" and f["client_id"] == cid)
            except ConnectionClosed:
                if self.member is None:
                    raise
                self.reconnects += 1
                server = self.servers[self.reconnects % len(self.servers)]
                self.ws = await self.env.ws(server, self.member, self.room)
                continue  # the same n, the same client_id
            self.acked.append(ack["seq"])
            n += 1
            await asyncio.sleep(1 / self.rate)

    async def stop(self) -> int:
        self.stopping.set()
        await asyncio.wait_for(self.task, 20)
        return self.acked[-1]


async def _truth(env: RoomsEnv, room: int, since: int) -> list[int]:
    rows = await env.sql("SELECT seq FROM room_messages WHERE room_id = :r AND seq > :s ORDER BY seq", r=room, s=since)
    return [row[0] for row in rows]


async def _bulk(env: RoomsEnv, room: int, pid: int, n: int, body: str = "written while you were away") -> None:
    """`n` messages the way the server writes them: the room's next seqs in one transaction, then NOTIFY.
    `pid`: the room-local id the welcome frame gave."""
    await env.sql("""
        WITH s AS (UPDATE rooms SET last_seq = last_seq + :n WHERE id = :r RETURNING last_seq),
             m AS (INSERT INTO room_messages (room_id, seq, participant_id, body_text, body_html, client_id)
                   SELECT :r, s.last_seq - :n + g,
                          (SELECT id FROM room_participants WHERE room_id = :r AND local_id = :p), :body || ' ' || g, '<p>' || :body || ' ' || g || '</p>',
                          'bulk-' || s.last_seq || '-' || g
                     FROM s, generate_series(1, :n) g RETURNING seq)
        SELECT pg_notify('room_events', :r || ':' || max(seq) || :kind) FROM m""", n=n, r=room, p=pid, body=body,
                  kind=":m")


async def _two_members(env: RoomsEnv, *servers: Any) -> tuple[Member, Member, int]:
    ada, ben = await env.member(), await env.member()
    room = await env.room_id()
    for member in (ada, ben):
        await env.join(servers[0], member, room)
    return ada, ben, room


@pytest.mark.parametrize(("absence", "written_meanwhile"), [("1s", 0), ("60s", 600), ("10min", 6000)])
async def test_an_absence_of_any_length_loses_nothing_and_doubles_nothing(rooms_env, absence, written_meanwhile):
    server = rooms_env.server()
    ada, ben, room = await _two_members(rooms_env, server)
    wa = await rooms_env.ws(server, ada, room)
    reader = Reader(rooms_env, ben, room)
    await reader.connect(server, fresh=True)
    await reader.read_until(wa.history["last_seq"])
    since = reader.last
    writer = Writer(rooms_env, wa, f"abs{absence}", member=ada, room=room, servers=(server,))
    await reader.read_for(0.6)  # a few live ones
    reader.ws.transport.abort()  # gone without a close: a phone in a tunnel
    await asyncio.sleep(1.0)     # ~10 live messages while away
    if written_meanwhile:
        await _bulk(rooms_env, room, wa.welcome["me"]["pid"], written_meanwhile)
    await reader.connect(server)
    await reader.read_for(1.0)   # catching up while the live writer keeps going
    final = await writer.stop()
    await reader.read_until(final)
    truth = await _truth(rooms_env, room, since)
    assert len(truth) >= written_meanwhile + 10
    reader.check(truth, since)
    pages = [f for f in reader.frames if f["type"] == "history" and not f["reset"]]
    assert all(f["n"] <= protocol.CATCHUP_PAGE for f in pages)
    assert pages[-1]["more"] is False and all(f["more"] for f in pages[:-1]), (reader.closes, pages)
    assert len(pages) >= written_meanwhile // protocol.CATCHUP_PAGE


async def test_a_resend_with_the_same_client_id_is_stored_once(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben, room = await _two_members(rooms_env, one)
    wa = await rooms_env.ws(one, ada, room)
    wb = await rooms_env.ws(two, ben, room)
    for _ in range(10):  # ten at once, without waiting: the retries of an anxious client
        await rooms_env.send(wa, "said once", "same-id")
    acks = [await recv_until(wa, lambda f: f["type"] == "ack") for _ in range(10)]
    assert len({a["seq"] for a in acks}) == 1
    assert sum(1 for a in acks if a.get("duplicate")) == 9
    seq = acks[0]["seq"]
    # Again from another connection on the other process, and after the room became read-only: the original
    # seq, not a refusal and not a copy.
    wa2 = await rooms_env.ws(two, ada, room, after=seq)
    await rooms_env.send(wa2, "said once", "same-id")
    assert (await recv_until(wa2, lambda f: f["type"] in ("ack", "error"))) | {"ms": 0} == \
        {"type": "ack", "client_id": "same-id", "seq": seq, "duplicate": True, "ms": 0}
    await rooms_env.sql("UPDATE rooms SET locked = true WHERE id = :r", r=room)
    await rooms_env.send(wa2, "said once", "same-id")
    assert (await recv_until(wa2, lambda f: f["type"] in ("ack", "error")))["seq"] == seq
    stored = await rooms_env.sql("SELECT count(*) FROM room_messages WHERE room_id = :r AND client_id = 'same-id'",
                                 r=room)
    assert stored[0][0] == 1
    reader = Reader(rooms_env, ben, room, ws=wb)
    await reader.read_for(1.0)
    assert reader.seqs.count(seq) == 1


async def test_a_commit_that_lands_after_the_new_connections_history_read(rooms_env):
    """The old connection's send commits after the new connection read its history: the client resends the
    same id (room.js does, for anything unacked), gets the original seq, and the message shows once."""
    server = rooms_env.server()
    ada, ben, room = await _two_members(rooms_env, server)
    wa = await rooms_env.ws(server, ada, room)
    reader = Reader(rooms_env, ben, room)
    await reader.connect(server, fresh=True)
    since = wa.history["last_seq"]
    blocker = await asyncpg.connect(**asyncpg_args(rooms_env.url))
    try:
        for n in range(3):
            cid = f"late-{n}"
            tx = blocker.transaction()
            await tx.start()
            # What a slow commit ahead of this one holds: the room row, for 2 s (seqs wait for it).
            await blocker.execute("SELECT 1 FROM rooms WHERE id = $1 FOR NO KEY UPDATE", room)
            await rooms_env.send(wa, f"late {n}", cid)
            await asyncio.sleep(0.3)
            wa.transport.abort()  # the socket dies with the send in flight
            wa = await rooms_env.ws(server, ada, room, after=since)
            assert not any(i.get("client_id") == cid for i in wa.history["items"]), "read before the commit"
            await rooms_env.send(wa, f"late {n}", cid)  # the resend, same id
            await asyncio.sleep(2.0)
            await tx.rollback()
            seen: list[dict] = []
            ack = await recv_until(wa, lambda f, cid=cid: f["type"] == "ack" and f["client_id"] == cid, seen=seen)
            await asyncio.sleep(0.3)
            seen += [json.loads(m) for m in await _drain(wa)]
            shown = [f["seq"] for f in seen if f["type"] == "message" and f.get("client_id") == cid]
            assert shown == [ack["seq"]], (shown, ack)
            assert ack.get("duplicate") is True
            since = ack["seq"]
    finally:
        await blocker.close()
    stored = await rooms_env.sql("SELECT client_id, count(*) FROM room_messages WHERE room_id = :r "
                                 "AND client_id LIKE 'late-%' GROUP BY 1", r=room)
    assert sorted(stored) == [("late-0", 1), ("late-1", 1), ("late-2", 1)]
    await reader.read_until(since)
    reader.check(await _truth(rooms_env, room, 0), 0)


async def _drain(ws: Any, seconds: float = 0.3) -> list[str]:
    out = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                out.append(await ws.recv())
    return out


async def test_a_worker_killed_with_sigkill(rooms_env):
    one, two = rooms_env.server(ROOMS_PRESENCE_LEASE_SECONDS="3"), rooms_env.server(ROOMS_PRESENCE_LEASE_SECONDS="3")
    ada, ben, room = await _two_members(rooms_env, one)
    cy, dee = await rooms_env.member(), await rooms_env.member()
    for member in (cy, dee):
        await rooms_env.join(one, member, room)
    wa = await rooms_env.ws(two, ada, room)
    since = wa.history["last_seq"]
    ben_r, cy_r = Reader(rooms_env, ben, room, last=since), Reader(rooms_env, cy, room, last=since)
    await ben_r.connect(one)
    await cy_r.connect(two)
    wd = await rooms_env.ws(one, dee, room)
    dee_pid = wd.welcome["me"]["pid"]
    writer = Writer(rooms_env, wa, "kill")
    await ben_r.read_for(1.0)
    ben_r.server = two  # Ben's client resumes on the survivor (through nginx it would land there)
    await asyncio.to_thread(one.stop, True)  # SIGKILL: no close frames, no leaves written
    await ben_r.read_for(2.0)
    assert ben_r.reconnects == 1
    final = await writer.stop()
    for reader in (ben_r, cy_r):
        await reader.read_until(final)
        reader.check(await _truth(rooms_env, room, since), since)
    # Dee never came back: her lease runs out and the room is told (3 s lease, a beat every second).
    await cy_r.until_people(lambda people: dee_pid in people, within=5)
    await cy_r.until_people(lambda people: dee_pid not in people and len(people) == 3, within=12)


# ---- a database outage -----------------------------------------------------------------------------------------

async def _closed(ws: Any, seen: list[dict], within: float = 10) -> Any:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                seen.append(json.loads(await ws.recv()))
    return closed.value


async def _connect_when_back(env: RoomsEnv, server: Any, member: Member, room: int, after: int,
                             within: float = 20) -> Any:
    """What room.js does after an outage: reconnect with backoff until the room answers."""
    async with asyncio.timeout(within):
        while True:
            try:
                return await env.ws(server, member, room, after=after)
            except InvalidStatus as exc:
                assert exc.response.status_code == 503, exc.response.status_code
                await asyncio.sleep(0.3)


async def before_an_outage(env: RoomsEnv) -> tuple[Any, Member, Member, int, Any, Reader, int]:
    """A server, Ada writing (a second of messages, acked) and Ben reading, both in the lounge: what each outage
    test starts from. Returns (server, ada, ben, room, ada's socket, ben's reader, the seq before it all)."""
    server = env.server(ROOMS_PRESENCE_LEASE_SECONDS="3")
    ada, ben, room = await _two_members(env, server)
    wa = await env.ws(server, ada, room)
    reader = Reader(env, ben, room, last=wa.history["last_seq"])
    since = reader.last
    await reader.connect(server)
    writer = Writer(env, wa, "before")
    await asyncio.sleep(1.0)
    await writer.stop()
    return server, ada, ben, room, wa, reader, since


def access_statuses(server: Any) -> list[Any]:
    """The status of every request in the server's JSON access log."""
    return [entry.get("status") for entry in map(_json_or_none, server.log_path.read_text().splitlines())
            if isinstance(entry, dict) and entry.get("event") == "access"]


async def test_a_database_outage_gives_error_frames_and_503s_never_500s(rooms_env):
    server, ada, ben, room, wa, reader, since = await before_an_outage(rooms_env)
    outage = Outage(rooms_env.url)
    await outage.begin()
    try:
        await rooms_env.send(wa, "sent during the outage", "during")
        seen: list[dict] = []
        closed = await _closed(wa, seen)
        errors = [f for f in seen if f["type"] == "error"]
        assert errors and errors[0]["code"] == "unavailable" and errors[0]["client_id"] == "during"
        assert errors[0]["retry_after"] >= 1 and "not sent" in errors[0]["message"]
        assert closed.rcvd is not None and closed.rcvd.code == 1013
        for _ in range(3):  # reconnects during the outage: 503 with Retry-After, never 500
            with pytest.raises(InvalidStatus) as refused:
                await rooms_env.ws(server, ada, room, after=since)
            assert refused.value.response.status_code == 503
            assert int(refused.value.response.headers["Retry-After"]) >= 1
        async with httpx.AsyncClient(base_url=server.url) as client:
            page = await client.get(f"/rooms/{room}", headers={"Cookie": ada.cookie})
        assert page.status_code == 503 and page.headers["Retry-After"]
    finally:
        await outage.end()
    await rooms_env.db.dispose()  # the test's own pool lost its connections too
    wa = await _connect_when_back(rooms_env, server, ada, room, since)
    await rooms_env.send(wa, "sent during the outage", "during")  # the client's resend, same id
    ack = await recv_until(wa, lambda f: f["type"] == "ack" and f["client_id"] == "during")
    assert not ack.get("duplicate")
    # Ben's socket may have been dropped as well; his client resumes either way.
    with contextlib.suppress(ConnectionClosed):
        await reader.read_until(ack["seq"], within=10)
    if reader.last < ack["seq"]:
        reader.ws = await _connect_when_back(rooms_env, server, ben, room, reader.last)
        for frame in (reader.ws.welcome, reader.ws.history):
            reader.take(frame)
        await reader.read_until(ack["seq"])
    reader.check(await _truth(rooms_env, room, since), since)
    logged = server.log_path.read_text()
    assert "database unavailable" in logged and "request_id=" in logged
    statuses = access_statuses(server)
    assert statuses and 500 not in statuses


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


async def test_a_client_that_never_reads_its_catch_up_is_dropped_and_holds_no_one_back(rooms_env):
    server = rooms_env.server(ROOMS_SEND_TIMEOUT="2", ROOMS_PRESENCE_LEASE_SECONDS="3")
    ada, ben, room = await _two_members(rooms_env, server)
    slow = await rooms_env.member()
    await rooms_env.join(server, slow, room)
    wa = await rooms_env.ws(server, ada, room)
    since = wa.history["last_seq"]
    await _bulk(rooms_env, room, wa.welcome["me"]["pid"], 3000, body="A long night, written out at length. " * 25)
    reader = Reader(rooms_env, ben, room, last=since)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    stuck = await rooms_env.ws(server, slow, room, after=since, sock=sock, max_queue=(8, 2), welcome=False,
                               compression=None, ping_interval=None)
    assert stuck is not None
    writer = Writer(rooms_env, wa, "meanwhile", member=ada, room=room, servers=(server,))
    await reader.connect(server)
    await reader.read_for(2.0)
    final = await writer.stop()
    await reader.read_until(final, within=30)
    reader.check(await _truth(rooms_env, room, since), since)
    async with asyncio.timeout(20):  # the server let go of the stuck client: its presence is gone
        while True:
            present = await rooms_env.sql(
                "SELECT count(*) FROM room_presence p JOIN room_participants r ON r.id = p.participant_id "
                "WHERE r.user_id = :u", u=slow.user.id)
            if not present[0][0]:
                break
            await asyncio.sleep(0.3)
