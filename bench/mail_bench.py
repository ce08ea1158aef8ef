"""Mail benchmarks: 500 invitations by mail queued in one request's work (with bad rows mixed in), and the
sender's throughput over real SMTP to the local catcher (aiosmtpd), on an isolated `bench_mail` database.

    mail.invite500_s         seconds to check 520 rows (500 good, 20 bad) and queue 500 invitations + mails,
                             commit included (median of 3 batches)               target <= 2
    mail.sender_msgs_per_s   messages per second the sender delivers to the catcher (1,500 queued)
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.http_bench import create_database, drop_database, server_url
from community.platform.accounts import invitations
from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import User
from community.platform.db import Database
from community.platform.mail.catcher import Catcher
from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Outbox
from community.platform.mail.sender import Sender
from community.settings import Settings

TARGETS: dict[str, tuple[str, float]] = {"mail.invite500_s": ("<=", 2.0)}
SETTINGS: dict[str, object] = {}
DB_NAME = f"bench_mail_{os.getpid()}"


def batch(n: int) -> str:
    """500 good rows and 20 bad ones (malformed, unknown role, duplicate), as a coordinator's CSV."""
    good = [f"resident{n}.{i}@example.org,resident,IM 2027" for i in range(500)]
    bad = [f"not-an-address-{i}" for i in range(8)] + [f"x{n}.{i}@example.org,wizard," for i in range(6)]
    bad += [good[i] for i in range(6)]
    return "email,role,cohort\n" + "\n".join(good[:250] + bad + good[250:])


async def _invite(db: Database, settings: Settings, actor, n: int) -> float:  # type: ignore[no-untyped-def]
    outbox = Outbox(settings)
    started = time.perf_counter()
    async with db.transaction() as session:
        result = await invitations.invite_many(session, outbox, settings, actor, text=batch(n), role="resident")
    elapsed = time.perf_counter() - started
    assert len(result.queued) == 500 and len(result.bad) == 20, (len(result.queued), len(result.bad))
    return elapsed


async def _send_all(db: Database, settings: Settings) -> float:
    sender = Sender(settings, db.url, standby_seconds=0.1)
    async with db.transaction() as session:
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    started = time.perf_counter()
    task = asyncio.create_task(sender.run())
    try:
        while sender.sent < total:
            await asyncio.sleep(0.05)
            if task.done():
                task.result()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return total / (time.perf_counter() - started)


async def _measure(url: str, mail_dir: Path) -> dict[str, float]:
    catcher = Catcher(mail_dir, _free_port())
    catcher.start()
    settings = Settings(database_url=url, base_url="http://bench.local", smtp_url=catcher.url, var_dir=mail_dir,
                        anon_key="bench-anon-key-" + "a" * 40, secret_key="bench-secret-" + "s" * 40)
    db = Database(url, pool_size=2)
    try:
        async with db.transaction() as session:
            admin = User(email="coordinator@example.org", display_name="Coordinator", handle="coordinator",
                         role="admin")
            session.add(admin)
            await session.flush()
            actor = to_viewer(admin)
        times = [await _invite(db, settings, actor, n) for n in range(3)]
        rate = await _send_all(db, settings)
    finally:
        await db.dispose()
        catcher.stop()
    SETTINGS.update({"invite_batches_s": [round(t, 3) for t in times], "sent": 1500})
    return {"mail.invite500_s": round(statistics.median(times), 3), "mail.sender_msgs_per_s": round(rate, 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run() -> dict[str, float]:
    server = server_url()
    url = asyncio.run(create_database(server, DB_NAME))
    try:
        with tempfile.TemporaryDirectory() as mail_dir:
            return asyncio.run(_measure(url, Path(mail_dir)))
    finally:
        asyncio.run(drop_database(server, DB_NAME))


if __name__ == "__main__":
    print(run(), SETTINGS)
