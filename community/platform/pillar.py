"""The Pillar value: everything a pillar hands the app, listed in one place and wired by create_app.

A pillar (discussions, reflections, rooms) exports one `PILLAR` from its `pillar.py`. Nothing registers itself
as a side effect of an import: `create_app`, the seeder, housekeeping and own-data export all read these
values, so a pillar that fails to import stops start-up with its real traceback.
"""

from __future__ import annotations

import zipfile
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from community.platform.anonymity import Anonymity
from community.platform.drafts.store import DraftKind, OwnDrafts
from community.platform.review.targets import TargetAdapter
from community.platform.viewer import Viewer

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from community.platform.mail.outbox import Outbox
    from community.settings import Settings

# async (session) -> {"what was done": count}: seed content and housekeeping jobs.
Job = Callable[[AsyncSession], Awaitable[dict[str, int]]]
# (app) -> an async context manager entered for the app's lifetime (the rooms hub, background loops).
Lifespan = Callable[["Starlette"], AbstractAsyncContextManager[None]]
# (the anonymity service) -> the pillar's moderation adapters, built once by create_app.
AdapterFactory = Callable[[Anonymity], Sequence[TargetAdapter]]
# async (session, outbox, settings) -> {"what was mailed": count}: run once a minute by the sending process only.
MailJob = Callable[[AsyncSession, "Outbox", "Settings"], Awaitable[dict[str, int]]]
# async (raw asyncpg connection, viewer) -> values for the signed-in home page (prepared statements, no ORM).
HomeSection = Callable[[Any, Viewer], Awaitable[dict[str, Any]]]
# async (session, anonymity, old tags) -> {"what was moved": count}: `community anonymity rekey` moves the pillar's
# rows from member-wide tags (old tags: {old scope: {tag: member id}}) to scoped tags (accounts.rekey).
Rekey = Callable[[AsyncSession, Anonymity, "OldTags"], Awaitable[dict[str, int]]]
OldTags = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Found:
    """One search result a pillar adds to the search page (its own visibility rules already applied)."""

    title: str
    url: str
    byline: str  # a name, or "Anonymous": never who wrote an anonymous piece
    snippet: str
    created_at: Any


# async (raw connection, viewer, anonymity, query) -> up to a page of the pillar's results for the search page.
SearchSection = Callable[[Any, Viewer, Anonymity, str], Awaitable[list[Found]]]


@dataclass(frozen=True)
class OwnData:
    """A pillar's part of "download everything I wrote" and "delete my account".

    - `export(session, viewer, anonymity)` returns sections of the export, by name.
    - `delete(session, viewer, anonymity, keep_shared)` removes the member's writing, or (keep_shared) leaves
      shared writing standing with nothing left that links it to them.
    - `write_zip(archive, data)` adds Markdown files for the pillar's sections to the zip export.
    """

    export: Callable[[AsyncSession, Viewer, Anonymity], Awaitable[dict[str, Any]]]
    delete: Callable[[AsyncSession, Viewer, Anonymity, bool], Awaitable[None]]
    write_zip: Callable[[zipfile.ZipFile, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class Pillar:
    name: str
    routes: Sequence[BaseRoute]
    adapters: AdapterFactory | None = None
    seeders: Sequence[Job] = ()
    housekeeping: Sequence[Job] = ()
    own_data: OwnData | None = None
    lifespan: Lifespan | None = None
    home: HomeSection | None = None
    rekey: Rekey | None = None
    mail_jobs: Sequence[MailJob] = ()
    draft_kinds: Sequence[DraftKind] = ()   # the composer slots whose drafts live in the drafts table
    own_drafts: OwnDrafts | None = None     # drafts the pillar keeps in its own table, for "My drafts"
    search: SearchSection | None = None     # its part of the search page (/search), under its own heading
    search_heading: str = ""
