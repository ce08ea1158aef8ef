"""Mail fixtures: a real SMTP server (aiosmtpd) that records what arrives, and a committed database for the
sender (its transactions must really commit, unlike the rolled-back one of ordinary tests)."""

from __future__ import annotations

import asyncio
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as DEFAULT_POLICY

import pytest
from aiosmtpd.controller import Controller

from community.platform.db import Database
from tests.conftest import RUN, clone_database, free_port


class Recorder:
    """An aiosmtpd handler: keeps every message that arrives; can refuse recipients or hold one RCPT."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 no such user"
        self.hold_after: int | None = None  # the RCPT after this many messages waits for `release`
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        if self.hold_after is not None and len(self.messages) >= self.hold_after and not self.release.is_set():
            self.held.set()
            await asyncio.to_thread(self.release.wait, 30)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=DEFAULT_POLICY)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on the same port (an outage)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.recorder.release.set()
    server.stop()


@pytest.fixture
def smtp_port():
    """A port with nothing listening yet (the server is down)."""
    return free_port()


@pytest.fixture
async def committed_db(database_urls, request):
    """A database of its own, cloned from the migrated template, whose commits are real."""
    name = f"{RUN}_mail_{request.node.name.lower()[:20].replace('[', '_').replace(']', '')}_{free_port()}"
    name = "".join(ch for ch in name if ch.isalnum() or ch == "_")
    url = await clone_database(database_urls, name)
    database = Database(url, pool_size=2)
    yield database
    await database.dispose()


async def wait_for(predicate, within: float = 15.0, interval: float = 0.05):
    """Polls `predicate` (sync or async) until it is truthy; fails the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(interval)
