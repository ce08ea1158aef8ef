"""The transactional outbox: `outbox.enqueue(session, to=..., template=..., context=...)` renders a message from
its Jinja2 templates and writes it as a row in the caller's transaction, so an email exists exactly when the event
that caused it commits. The sender (mail.sender) delivers it after the commit.

Every message is multipart (plain text and HTML), from three templates under templates/mail/: NAME.subject.txt,
NAME.txt and NAME.html, which extend the layouts that carry the footer (crisis resources on every message, and
the unsubscribe link where one applies).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.mail.models import OutboxMessage
from community.settings import ROOT, Settings

MAIL_TEMPLATES = ROOT / "templates" / "mail"
SITE_NAME = "Compassionate Practice"


@dataclass(frozen=True)
class Mail:
    """One message to write: its recipient, template, the template's context, and its unsubscribe link (for
    notification mail; RFC 8058 one-click: the link must accept a POST without a session)."""

    to: str
    template: str
    context: dict[str, Any]
    unsubscribe_url: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A small text file sent with a message, e.g. a session's invitation (text/calendar)."""

    filename: str
    content_type: str
    content: str


class Outbox:
    """Renders messages and writes them to the outbox table; one per app (app.state.outbox)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # StrictUndefined: a template that names a value the caller did not pass fails loudly, at enqueue time.
        self.env = Environment(loader=FileSystemLoader(str(MAIL_TEMPLATES)), undefined=StrictUndefined,
                               autoescape=select_autoescape(enabled_extensions=("html",), default=False),
                               keep_trailing_newline=True)
        self.domain = parseaddr(settings.mail_from)[1].rsplit("@", 1)[-1] or "localhost"

    def render(self, mail: Mail) -> dict[str, Any]:
        """The row's values for one message (raises if a template is missing or a value is not given)."""
        context = {"site_name": SITE_NAME, "base_url": self.settings.base_url,
                   "crisis_resources": self.settings.crisis_resources, "unsubscribe_url": mail.unsubscribe_url,
                   **mail.context}
        subject = " ".join(self.env.get_template(f"{mail.template}.subject.txt").render(context).split())
        headers: dict[str, str] = {}
        if mail.unsubscribe_url:
            headers = {"List-Unsubscribe": f"<{mail.unsubscribe_url}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return {"message_id": f"<{secrets.token_hex(16)}@{self.domain}>", "to_addr": mail.to.strip(),
                "template": mail.template, "subject": subject,
                "text_body": self.env.get_template(f"{mail.template}.txt").render(context),
                "html_body": self.env.get_template(f"{mail.template}.html").render(context), "headers": headers,
                "attachments": [{"filename": a.filename, "content_type": a.content_type, "content": a.content}
                                for a in mail.attachments]}

    async def enqueue(self, session: AsyncSession, *, to: str, template: str, context: dict[str, Any],
                      unsubscribe_url: str | None = None, attachments: tuple[Attachment, ...] = ()) -> int:
        """Writes one message in the caller's transaction; returns its outbox id."""
        return (await self.enqueue_many(session, [Mail(to, template, context, unsubscribe_url, attachments)]))[0]

    async def enqueue_many(self, session: AsyncSession, mails: Sequence[Mail]) -> list[int]:
        """Writes many messages in one statement (bulk invitations); returns their ids in order."""
        if not mails:
            return []
        rows = [self.render(mail) for mail in mails]
        result = await session.execute(insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True),
                                       rows)
        return list(result.scalars())
