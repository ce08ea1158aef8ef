"""Room fan-out benchmark: latency from send to the LAST receiver (100 and 500 clients in one process, 500
split across two processes) and server memory per idle connection. Not a test: `run() -> dict[str, float]`.

The server is a `community serve` subprocess; receivers live in separate processes (time.monotonic_ns is
system-wide on Linux, so send and receive times compare across processes).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ANON_KEY = "bench-anon-key-" + "b" * 40
SECRET_KEY = "bench-secret-key-" + "s" * 40
MESSAGES = 150        # measured per scenario; p99 is then the 2nd-worst, not simply the maximum of a few dozen
WARMUP = 10           # sent and received first, not measured: the first sends prepare statements and fill caches
SPACING_S = 0.1       # between sends: each message is measured on its own (10 a second is still a busy room)

TARGETS: dict[str, tuple[str, float]] = {
    "ws.fanout100.p99_ms": ("<=", 20.0),
    "ws.fanout500.p99_ms": ("<=", 100.0),
    "ws.cross500.p99_ms": ("<=", 120.0),
    "ws.idle_kib_per_conn": ("<=", 50.0),
    "ws.catchup_10k_ms": ("<=", 2000.0),
    "ws.resend_dupes": ("<=", 0.0),
}
CATCHUP_MISSED = 10_000  # a client away while this many messages were written (~17 min at 10 a second)
RESENDS = 100            # messages each sent three times with one client_id: twice on a socket, once on another
SETTINGS = {"messages": MESSAGES, "warmup": WARMUP, "spacing_s": SPACING_S, "server_workers": 1,
            "receiver_processes": "2 (100 clients), 4 (500 clients)", "client": "raw RFC 6455, no compression"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, database_url: str, var_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(self.port),
               "SECRET_KEY": SECRET_KEY, "ANON_KEY": ANON_KEY, "BASE_URL": self.url, "VAR_DIR": str(var_dir),
               "LOG_JSON": "1", "ROOMS_QUEUE_SIZE": "1024", "ROOM_MESSAGES_PER_MINUTE": "0",  # floods on purpose
               "MAIL_CATCHER_PORT": str(_free_port())}
        self.log = open(var_dir / f"bench-server-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-m", "community.cli", "serve", "--no-bootstrap"],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(ROOT))

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("bench server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# ---- receivers (separate processes) -----------------------------------------------------------------------------

def _receiver_main(conn: Any, targets: list[tuple[str, str]]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        asyncio.run(_receiver(conn, targets))
    else:
        uvloop.run(_receiver(conn, targets))


class _RawClient(asyncio.Protocol):
    """A minimal RFC 6455 client for the receivers: no task, no queue, no JSON parsing per frame.

    A receiver process holds 125 sockets on a 2-core machine that also runs the server; a full client library
    spends more CPU per frame than the server does, and the bench would measure its own clients. This one
    parses each frame as it arrives, notes when a room message arrives (and its client_id), answers pings
    (masked pongs, so the server's keepalive is satisfied) and ignores everything else.
    """

    def __init__(self, request: bytes, latest: dict[str, int], opened: asyncio.Future[None]) -> None:
        self.request = request
        self.latest = latest
        self.opened = opened
        self.buf = bytearray()
        self.handshaken = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buf[:80]).decode(errors="replace")))
                return
            del buf[:end + 4]
            self.handshaken = True
            self.opened.set_result(None)
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < head + length:
                break
            start, pos = pos + head, pos + head + length
            opcode = b0 & 0x0F
            if opcode == 1 and buf.startswith(b'{"type":"message"', start):
                at = time.monotonic_ns()
                i = buf.find(b'"client_id":"', start, pos)
                if i >= 0:
                    j = buf.find(b'"', i + 13, pos)
                    cid = buf[i + 13:j].decode()
                    if at > self.latest.get(cid, 0):
                        self.latest[cid] = at
            elif opcode == 9 and self.transport is not None:  # ping -> pong, masked as a client must
                payload = bytes(buf[start:pos])
                mask = os.urandom(4)
                masked = bytes(c ^ mask[k % 4] for k, c in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
        if pos:
            del buf[:pos]


async def _receiver(conn: Any, targets: list[tuple[str, str]]) -> None:
    import base64
    from urllib.parse import urlsplit

    loop = asyncio.get_running_loop()
    latest: dict[str, int] = {}
    clients = []
    for ws_url, origin_and_cookie in targets:
        origin, cookie = origin_and_cookie.split("|", 1)
        url = urlsplit(ws_url)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {url.path}{'?' + url.query if url.query else ''} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n").encode()
        opened: asyncio.Future[None] = loop.create_future()
        _transport, client = await asyncio.wait_for(loop.create_connection(
            lambda request=request, opened=opened: _RawClient(request, latest, opened), url.hostname, url.port), 30)
        await asyncio.wait_for(opened, 30)
        clients.append(client)
    conn.send("ready")
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "collect":
            conn.send(dict(latest))
            latest.clear()
        else:
            break
    for client in clients:
        if client.transport is not None:
            client.transport.abort()


# ---- set-up -------------------------------------------------------------------------------------------------------

async def _prepare(database_url: str, members: int) -> tuple[int, list[str]]:
    """Members with sessions, already participants of the night-float lounge; returns (room id, cookies)."""
    from sqlalchemy import select, text

    from community import seed
    from community.platform.accounts.security import new_token, token_hash
    from community.platform.anonymity import Anonymity
    from community.platform.db import Database
    from community.platform.migrate import upgrade
    from community.rooms.actions import member_tag
    from community.rooms.models import Room

    await upgrade(database_url)
    db = Database(database_url, pool_size=2)
    try:
        async with db.transaction() as session:
            await seed.run(session)
            room_id = (await session.scalars(select(Room.id).where(Room.slug == "night-float-lounge"))).one()
            await session.execute(text("UPDATE rooms SET capacity = 10000 WHERE id = :id"), {"id": room_id})
            tokens = [new_token() for _ in range(members)]
            ids = (await session.execute(text(
                "INSERT INTO users (email, display_name, handle, role) SELECT 'bench' || n || '-' || :run "
                "|| '@example.org', 'Bench ' || n, 'bench_' || :run || '_' || n, 'resident' "
                "FROM generate_series(1, :n) AS n RETURNING id"), {"n": members, "run": str(os.getpid())})).scalars().all()
            await session.execute(text(
                "INSERT INTO sessions (token_hash, user_id, expires_at) SELECT unnest(CAST(:hashes AS text[])), "
                "unnest(CAST(:ids AS bigint[])), now() + interval '1 day'"),
                {"hashes": [token_hash(t) for t in tokens], "ids": list(ids)})
            await session.execute(text(
                "INSERT INTO room_participants (room_id, local_id, member_tag, user_id, label) SELECT :room, "
                "unnest(CAST(:locals AS bigint[])), unnest(CAST(:tags AS text[])), unnest(CAST(:ids AS bigint[])), "
                "'Bench member'"),
                {"room": room_id, "locals": random.sample(range(1, 2**31), len(ids)),
                 "tags": [member_tag(Anonymity(ANON_KEY), i, room_id) for i in ids], "ids": list(ids)})
    finally:
        await db.dispose()
    return room_id, [f"session={t}" for t in tokens]


class Receivers:
    def __init__(self, targets: list[tuple[str, str]], processes: int = 4) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        chunk = -(-len(targets) // processes)
        for i in range(processes):
            part = targets[i * chunk:(i + 1) * chunk]
            if not part:
                continue
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_receiver_main, args=(child, part), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)
        for pipe in self.pipes:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("receivers did not connect")

    def collect(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for pipe in self.pipes:
            pipe.send("collect")
        for pipe in self.pipes:
            for cid, at in pipe.recv().items():
                merged[cid] = max(at, merged.get(cid, 0))
        return merged

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send("quit")
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


async def _measure(sender_url: str, origin: str, cookie: str, receivers: Receivers, label: str) -> dict[str, float]:
    from websockets.asyncio.client import connect

    ws = await connect(sender_url, additional_headers={"Origin": origin, "Cookie": cookie}, compression=None)
    sent: dict[str, int] = {}
    reader_done = asyncio.Event()

    async def drain() -> None:
        async for raw in ws:
            if '"type":"ack"' in raw and json.loads(raw)["client_id"] == f"{label}-{MESSAGES - 1}":
                reader_done.set()

    draining = asyncio.create_task(drain())
    for n in range(WARMUP):
        await ws.send(json.dumps({"type": "send", "client_id": f"warmup-{label}-{n}", "text": "Warming up."}))
        await asyncio.sleep(SPACING_S)
    await asyncio.sleep(0.5)
    receivers.collect()  # forget the warm-up's arrivals
    for n in range(MESSAGES):
        cid = f"{label}-{n}"
        sent[cid] = time.monotonic_ns()
        await ws.send(json.dumps({"type": "send", "client_id": cid, "text": f"Benchmark message {n}: steady."}))
        await asyncio.sleep(SPACING_S)
    await asyncio.wait_for(reader_done.wait(), 30)
    await asyncio.sleep(1.0)
    latest = receivers.collect()
    draining.cancel()
    await ws.close()
    lat = sorted((latest[cid] - at) / 1e6 for cid, at in sent.items() if cid in latest)
    if len(lat) < MESSAGES:
        raise RuntimeError(f"{label}: only {len(lat)} of {MESSAGES} messages reached every receiver process")
    return {f"ws.{label}.p50_ms": round(statistics.median(lat), 2),
            f"ws.{label}.p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2)}


_BULK_SQL = """
WITH s AS (UPDATE rooms SET last_seq = last_seq + $3 WHERE id = $1 RETURNING last_seq),
     m AS (INSERT INTO room_messages (room_id, seq, participant_id, body_text, body_html, client_id)
           SELECT $1, s.last_seq - $3 + g, $2, 'While you were away ' || g,
                  '<p>While you were away, message ' || g || ': a steady night, and a word for the next shift.</p>',
                  'bulk-' || s.last_seq || '-' || g
             FROM s, generate_series(1, $3) g RETURNING seq)
SELECT pg_notify('room_events', $1 || ':' || max(seq) || ':m') FROM m
"""


async def _catchup(url: str, ws_url: str, origin: str, cookie: str, room_id: int) -> dict[str, float]:
    """A client that missed CATCHUP_MISSED messages reconnects: ms from the connect until its catch-up is
    complete (every missed message received, in order). Median of three."""
    import asyncpg
    from websockets.asyncio.client import connect

    from community.platform.db import asyncpg_args

    headers = {"Origin": origin, "Cookie": cookie}
    times = []
    for _ in range(3):
        async with connect(ws_url, additional_headers=headers, compression=None) as ws:
            welcome = json.loads(await ws.recv())
            after, pid = welcome["room"]["last_seq"], welcome["me"]["pid"]
        conn = await asyncpg.connect(**asyncpg_args(url))
        try:
            await conn.execute(_BULK_SQL, room_id, pid, CATCHUP_MISSED)
        finally:
            await conn.close()
        started = time.perf_counter()
        seqs: list[int] = []
        async with connect(f"{ws_url}?after={after}", additional_headers=headers, compression=None) as ws:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame["type"] == "history":
                    seqs.extend(i["seq"] for i in frame["items"] if i["type"] == "message")
                    if not frame.get("more"):
                        break
        times.append((time.perf_counter() - started) * 1000)
        if seqs != list(range(after + 1, after + CATCHUP_MISSED + 1)):
            raise RuntimeError(f"catch-up: {len(seqs)} of {CATCHUP_MISSED} messages, or out of order")
    return {"ws.catchup_10k_ms": round(statistics.median(times), 1)}


async def _resend_dupes(url: str, ws_url: str, origin: str, cookie: str, room_id: int) -> dict[str, float]:
    """Each of RESENDS messages sent three times with one client_id (twice at once on one socket, once on a
    second socket at the same moment): rows stored beyond one per client_id."""
    import asyncpg
    from websockets.asyncio.client import connect

    from community.platform.db import asyncpg_args

    headers = {"Origin": origin, "Cookie": cookie}
    run = f"resend-{os.getpid()}-{time.monotonic_ns()}"
    async with connect(ws_url, additional_headers=headers, compression=None) as one, \
            connect(ws_url, additional_headers=headers, compression=None) as two:
        for n in range(RESENDS):
            frame = json.dumps({"type": "send", "client_id": f"{run}-{n}", "text": f"Said once, sent thrice ({n})."})
            await asyncio.gather(one.send(frame), one.send(frame), two.send(frame))
        for ws, expected in ((one, 2 * RESENDS), (two, RESENDS)):
            acks = 0
            while acks < expected:
                raw = await asyncio.wait_for(ws.recv(), 30)
                acks += '"type":"ack"' in raw and run in raw
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        rows = await conn.fetchval("SELECT count(*) FROM room_messages WHERE room_id = $1 AND client_id LIKE $2",
                                   room_id, f"{run}-%")
    finally:
        await conn.close()
    return {"ws.resend_dupes": float(rows - RESENDS)}


def run(database_url: str | None = None) -> dict[str, float]:
    from community.platform.db import ensure_database, start_embedded, with_database

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    server_url = database_url or os.environ.get("BENCH_DATABASE_URL") or start_embedded(ROOT / "var")
    url = with_database(server_url, f"bench_ws_{os.getpid()}")
    asyncio.run(ensure_database(url))
    room_id, cookies = asyncio.run(_prepare(url, 501))
    sender_cookie, cookies = cookies[0], cookies[1:]
    results: dict[str, float] = {}
    one = Server(url, var_dir)
    two = None
    receivers = None
    try:
        one.wait_ready()
        ws_one = one.url.replace("http", "ws") + f"/rooms/{room_id}/ws"
        time.sleep(1.0)
        rss_before = _rss_kib(one.process.pid)
        receivers = Receivers([(ws_one, f"{one.url}|{c}") for c in cookies[:100]], processes=2)
        results.update(asyncio.run(_measure(ws_one, one.url, sender_cookie, receivers, "fanout100")))
        receivers.stop()
        receivers = Receivers([(ws_one, f"{one.url}|{c}") for c in cookies[:500]], processes=4)
        time.sleep(1.0)
        rss_after = _rss_kib(one.process.pid)
        results["ws.idle_kib_per_conn"] = round((rss_after - rss_before) / 500, 2)
        results.update(asyncio.run(_measure(ws_one, one.url, sender_cookie, receivers, "fanout500")))
        receivers.stop()
        results.update(asyncio.run(_catchup(url, ws_one, one.url, sender_cookie, room_id)))
        results.update(asyncio.run(_resend_dupes(url, ws_one, one.url, sender_cookie, room_id)))
        two = Server(url, var_dir)
        two.wait_ready()
        ws_two = two.url.replace("http", "ws") + f"/rooms/{room_id}/ws"
        split = [(ws_one, f"{one.url}|{c}") for c in cookies[:250]] + \
                [(ws_two, f"{two.url}|{c}") for c in cookies[250:500]]
        receivers = Receivers(split, processes=4)
        results.update(asyncio.run(_measure(ws_one, one.url, sender_cookie, receivers, "cross500")))
    finally:
        if receivers is not None:
            receivers.stop()
        one.stop()
        if two is not None:
            two.stop()
        asyncio.run(_drop(server_url, url))
    return results


async def _drop(server_url: str, url: str) -> None:
    import asyncpg

    from community.platform.db import asyncpg_args

    name = asyncpg_args(url)["database"]
    conn = await asyncpg.connect(**{**asyncpg_args(server_url), "database": "postgres"})
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else None), indent=2))
