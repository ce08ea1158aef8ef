"""Helpers for the reflection tests: writing through the real pages, reading rows back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from community.reflections.models import Prompt, Reflection
from tests.discussions.conftest import admin, login_with, moderator  # noqa: F401  (fixtures, found by name)

ID_RE = re.compile(r"/reflections/(\d+)")


async def write(client, *, body: str = "A quiet shift; I sat with a family for a while.", title: str = "",
                visibility: str = "private", prompt_id: str = "", theme: str = "", **extra) -> int:
    """Publishes through POST /reflections/new and returns the new reflection's id."""
    response = await client.post_form("/reflections/new", {"title": title, "body": body, "visibility": visibility,
                                                           "prompt_id": prompt_id, "theme": theme,
                                                           "intent": "publish", **extra})
    assert response.status_code == 303, response.text[:2000]
    match = ID_RE.search(response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def follow_pages(client, url: str, item: str, more: str, params: dict | None = None,
                       most: int = 5) -> list[int]:
    """The ids (regex `item`'s group) on a paged list and on each page its `more` link (a regex whose group is the
    next page's address) leads to, at most `most` pages; every page must answer 200."""
    seen: list[int] = []
    page = await client.get(url, params=params or {})
    for _ in range(most):
        assert page.status_code == 200
        seen += [int(found) for found in re.findall(item, page.text)]
        link = re.search(more, page.text)
        if not link:
            break
        page = await client.get(link.group(1).replace("&amp;", "&"))
    return seen


@pytest.fixture
def settings(database_urls, tmp_path):
    """The posting rate limit is lifted by default here (the wall tests share many pieces in a row); tests of it
    build their own app with `login_with`."""
    from tests.conftest import make_settings

    return make_settings(database_urls["main"], tmp_path, posts_per_minute=1000)


@pytest.fixture
def anon_key(settings) -> str:
    return settings.anon_key


@pytest.fixture
def writer():
    return write


@pytest.fixture
async def any_prompt(db):
    async with db.transaction() as session:
        return (await session.scalars(select(Prompt).where(Prompt.active.is_(True)).order_by(Prompt.id))).first()


async def load(db, reflection_id: int) -> Reflection | None:
    async with db.transaction() as session:
        return await session.get(Reflection, reflection_id)
