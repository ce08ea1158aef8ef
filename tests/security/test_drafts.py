"""F2 and F7 (drafts): a draft's slot names a real target, a member keeps at most 50 drafts of at most 20,000
characters, saving is rate-limited, and the export and account deletion reach every stored draft."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from community.platform import rate_limits
from community.reflections import drafts
from community.reflections.models import Prompt, ReflectionDraft
from tests.conftest import PASSWORD
from tests.reflections.conftest import write


async def _autosave(client, payload):
    return await client.post("/reflections/drafts", json=payload, headers={"X-CSRF-Token": client.cookies.get("csrf")})


@pytest.fixture(autouse=True)
def fresh_edit_counts(monkeypatch):
    """The draft-save limit counts in process memory: each test starts with its own counts."""
    monkeypatch.setattr(rate_limits, "EDITS", rate_limits.RecentEdits())


async def test_a_slot_must_name_a_real_target(member_factory, login, db):
    me = await login(await member_factory())
    async with db.transaction() as session:
        missing = (await session.scalar(select(func.max(Prompt.id)))) + 1000
    response = await _autosave(me, {"slot": f"prompt:{missing}", "body": "Outside every listed slot."})
    assert response.status_code == 400 and response.json()["saved"] is False
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ReflectionDraft).where(
            ReflectionDraft.body == "Outside every listed slot.")) == 0


async def test_drafts_are_bounded_in_size_and_number(member_factory, login, db, monkeypatch):
    me = await login(await member_factory())
    too_long = await _autosave(me, {"slot": "new", "body": "b" * 20_001})
    assert too_long.status_code == 400 and "20,000" in too_long.json()["errors"]["body"]
    assert (await _autosave(me, {"slot": "new", "body": "b" * 20_000})).status_code == 200
    monkeypatch.setattr(drafts, "DRAFTS_MAX", 3)
    async with db.transaction() as session:
        prompt_ids = list(await session.scalars(select(Prompt.id).order_by(Prompt.id).limit(3)))
    for prompt_id in prompt_ids[:2]:
        assert (await _autosave(me, {"slot": f"prompt:{prompt_id}", "body": "One more."})).status_code == 200
    refused = await _autosave(me, {"slot": f"prompt:{prompt_ids[2]}", "body": "One too many."})
    assert refused.status_code == 400 and "3 saved drafts" in refused.json()["error"]
    assert (await _autosave(me, {"slot": "new", "body": "Replacing one is fine."})).status_code == 200


def test_the_limits_are_those_of_the_audit():
    assert drafts.DRAFTS_MAX == 50 and drafts.DRAFT_MAX == 20_000


async def test_saving_drafts_is_rate_limited(member_factory, login):
    me = await login(await member_factory())
    for n in range(drafts.DRAFT_SAVES_PER_MINUTE):
        assert (await _autosave(me, {"slot": "new", "body": f"Save {n}."})).status_code == 200
    response = await _autosave(me, {"slot": "new", "body": "One save too many."})
    assert response.status_code == 429 and "draft saves" in response.json()["error"]
    assert int(response.headers["retry-after"]) > 0


async def test_export_and_deletion_reach_every_stored_draft(member_factory, login, db):
    from_me = "Draft by me in"
    me = await login(await member_factory())
    rid = await write(me, body="A reflection to edit later.")
    async with db.transaction() as session:
        prompt_id = await session.scalar(select(func.min(Prompt.id)))
        missing = (await session.scalar(select(func.max(Prompt.id)))) + 1000
    for slot in ("new", f"prompt:{prompt_id}", f"edit:{rid}", f"prompt:{missing}"):
        await _autosave(me, {"slot": slot, "body": f"{from_me} {slot}."})

    async def stored() -> int:
        async with db.transaction() as session:
            return await session.scalar(select(func.count()).select_from(ReflectionDraft).where(
                ReflectionDraft.body.startswith(from_me)))

    exported = (await me.get("/account/data/export.json")).json()["drafts"]
    assert {d["slot"] for d in exported} == {"new", f"prompt:{prompt_id}", f"edit:{rid}"}
    assert len(exported) == await stored() == 3
    done = await me.post_form("/account/data/delete", {"choice": "remove", "password": PASSWORD})
    assert done.status_code == 303
    assert await stored() == 0
