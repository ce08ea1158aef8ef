"""The day workload's live rooms: N member sockets spread over the rooms, sending RATE messages a second in total
while wrk drives the HTTP mix. Its own process (day_bench starts it), so the clients never share the server's CPU
accounting. Prints one JSON line: per message the fan-out latency (send to the last other member of the room
receiving it) and the write latency (send to the sender's ack: screening, the insert, NOTIFY).

    python -m bench.day_rooms --targets FILE --origin URL --seconds S [--rate 5]

FILE is JSON: [[ws_url, cookie], ...], one socket each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

TEXTS = ("Quiet night so far. Thinking of everyone on call.", "Did anyone else find rounds long today?",
         "A small win: a family thanked the whole team.", "Taking a five-minute pause before the next admission.",
         "Coffee, then notes, then maybe sleep.")


class Room:
    """The sockets of one room and, per message sent, who has received it and when."""

    def __init__(self) -> None:
        self.sockets: list[ClientConnection] = []
        self.arrivals: dict[str, dict[int, int]] = {}  # client_id -> {id(socket): arrival ns}


async def _reader(ws: ClientConnection, room: Room, acks: dict[str, int]) -> None:
    async for raw in ws:
        at = time.monotonic_ns()
        if not isinstance(raw, str):
            continue
        if raw.startswith('{"type":"message"'):
            cid = json.loads(raw).get("client_id")
            if cid in room.arrivals:
                room.arrivals[cid].setdefault(id(ws), at)
        elif raw.startswith('{"type":"ack"'):
            acks.setdefault(json.loads(raw).get("client_id"), at)


async def _open(targets: list[list[str]], origin: str) -> tuple[dict[str, Room], list[tuple[Room, Any]]]:
    rooms: dict[str, Room] = {}
    sockets = []
    for ws_url, cookie in targets:
        ws = await connect(ws_url, additional_headers={"Origin": origin, "Cookie": cookie}, compression=None,
                           open_timeout=30, max_queue=None)
        room = rooms.setdefault(ws_url, Room())
        room.sockets.append(ws)
        sockets.append((room, ws))
    return rooms, sockets


async def drive(targets: list[list[str]], origin: str, seconds: float, rate: float) -> dict[str, Any]:
    """Opens every socket, sends `rate` messages a second from random sockets for `seconds`, waits for the
    stragglers, and returns the latencies in ms."""
    rooms, sockets = await _open(targets, origin)
    acks: dict[str, int] = {}
    readers = [asyncio.create_task(_reader(ws, room, acks)) for room, ws in sockets]
    await asyncio.sleep(1.0)  # welcomes and histories first
    rng = random.Random(5)
    sent: dict[str, tuple[int, Room, int]] = {}
    deadline = time.monotonic() + seconds
    n = 0
    run = f"{os.getpid()}x{time.time_ns() % 10**9}"  # client_ids are idempotency keys: unique across runs
    tick = time.monotonic()
    while time.monotonic() < deadline:
        room, ws = sockets[rng.randrange(len(sockets))]
        cid = f"day-{run}-{n}"
        room.arrivals[cid] = {}
        sent[cid] = (time.monotonic_ns(), room, id(ws))
        await ws.send(json.dumps({"type": "send", "client_id": cid, "text": f"{TEXTS[n % len(TEXTS)]} ({n})"}))
        n += 1
        tick += 1.0 / rate
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
    await asyncio.sleep(3.0)
    fanout, ack_ms, incomplete, copies = [], [], 0, {}
    for cid, (at, room, sender) in sent.items():
        got = [t for sock, t in room.arrivals[cid].items() if sock != sender]
        copies[f"{len(got)}/{len(room.sockets) - 1}"] = copies.get(f"{len(got)}/{len(room.sockets) - 1}", 0) + 1
        if len(got) == len(room.sockets) - 1 and got:
            fanout.append((max(got) - at) / 1e6)
        elif got or len(room.sockets) > 1:
            incomplete += 1
        if cid in acks:
            ack_ms.append((acks[cid] - at) / 1e6)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for _, ws in sockets), return_exceptions=True)
    return {"sent": n, "sockets": len(sockets), "rooms": len(rooms), "incomplete": incomplete, "copies": copies,
            "fanout_ms": fanout, "ack_ms": ack_ms}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=float, default=5.0)
    args = parser.parse_args(argv)
    targets = json.loads(Path(args.targets).read_text())
    result = asyncio.run(drive(targets, args.origin, args.seconds, args.rate))
    sys.stdout.write("ROOMSJSON " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
