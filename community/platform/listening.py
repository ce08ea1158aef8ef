"""One PostgreSQL LISTEN connection that stays up: reconnects with backoff and notices a half-open connection.

Used by the realtime hub (room events) and the viewer cache (changes to signed-in members). A user of it gives
the channel, what to do with each payload, and what to do when listening starts (`on_up`: catch up on what was
committed while not listening) and stops (`on_down`: stop trusting what was heard so far).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import asyncpg

from community.platform.db import asyncpg_args

log = logging.getLogger(__name__)


class Listener:
    def __init__(self, url: str, channel: str, on_notify: Callable[[str], None], *, application_name: str,
                 label: str, on_up: Callable[[], None] | None = None,
                 on_down: Callable[[], None] | None = None) -> None:
        self.url = url
        self.channel = channel
        self.on_notify = on_notify
        self.application_name = application_name  # how operators (and tests) find the connection
        self.label = label
        self.on_up = on_up
        self.on_down = on_down
        self.conn: asyncpg.Connection | None = None
        self.stopping = False

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.on_notify(payload)

    async def run(self) -> None:
        """Listens until cancelled (or `stopping` is set), reconnecting after any failure."""
        failures = 0
        while not self.stopping:
            lost = asyncio.Event()
            conn = None
            try:
                conn = await asyncpg.connect(**asyncpg_args(self.url, self.application_name), timeout=10)
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self.channel, self._received)
                self.conn = conn
                failures = 0
                if self.on_up is not None:
                    self.on_up()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), 15)
                    except TimeoutError:  # a half-open TCP connection never reports loss: ask
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (any failure: reconnect)
                log.warning("%s: listening connection failed: %s", self.label, type(exc).__name__)
            finally:
                self.conn = None
                if self.on_down is not None:
                    self.on_down()
                if conn is not None:
                    conn.terminate()
            if self.stopping:
                return
            failures += 1
            await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)) * (0.5 + random.random()))

    def server_pid(self) -> int | None:
        conn = self.conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None
