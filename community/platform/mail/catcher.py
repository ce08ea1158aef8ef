"""The development mail catcher: a local SMTP server (aiosmtpd) that keeps every message under var/mail/.

`community serve` starts it when SMTP_URL is unset outside production, so invitations and reset links can be
followed end to end on one machine; admins read what it caught on /admin/mail.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as DEFAULT_POLICY
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

NAME_RE = re.compile(r"^[0-9]{1,20}-[0-9a-f]{8}\.eml$")
LINK_RE = re.compile(r"https?://[^\s<>\"']+")


class _Store:
    """aiosmtpd handler: writes each message whole (temporary file, then rename) as NANOSECONDS-RANDOM.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, self.directory / name)
        return "250 Message accepted for delivery"


class Catcher:
    """The catcher's SMTP server, in its own thread: start() and stop()."""

    def __init__(self, directory: Path, port: int, host: str = "127.0.0.1") -> None:
        self.directory = directory
        self.controller = Controller(_Store(directory), hostname=host, port=port, enable_SMTPUTF8=True)

    @property
    def url(self) -> str:
        return f"smtp://{self.controller.hostname}:{self.controller.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@dataclass(frozen=True)
class CaughtMail:
    """One caught message, as the admin page shows it."""

    name: str
    to: str
    subject: str
    date: str
    text: str
    html: str
    links: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]


def read_one(path: Path) -> CaughtMail:
    message = message_from_bytes(path.read_bytes(), policy=DEFAULT_POLICY)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    return CaughtMail(name=path.name, to=str(message.get("To", "")), subject=str(message.get("Subject", "")),
                      date=str(message.get("Date", "")), text=text,
                      html=html_part.get_content() if html_part is not None else "",
                      links=tuple(dict.fromkeys(LINK_RE.findall(text))),
                      headers=tuple((k, str(v)) for k, v in message.items()))


def caught(directory: Path, limit: int = 50) -> list[CaughtMail]:
    """The newest caught messages first."""
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.iterdir() if NAME_RE.match(p.name)), reverse=True)[:limit]
    return [read_one(directory / name) for name in names]


def caught_one(directory: Path, name: str) -> CaughtMail | None:
    """One caught message by its file name (nothing outside the directory can be named)."""
    if not NAME_RE.match(name) or not (directory / name).is_file():
        return None
    return read_one(directory / name)
