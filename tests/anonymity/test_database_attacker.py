"""The anonymity probe as a database attacker: a copy of the database, no keys, and the join attacks of issue 14.

Twenty writers use a real server (committed transactions, real times): each signs in, writes signed and
anonymous pieces interleaved with the others, gets replies and moderation, and reads notifications. Then every
table is dumped with its rows' transaction ids, and each attack guesses, for every anonymous piece, who wrote it.
An attack passes when it does no better than chance: at most CHANCE correct guesses out of twenty.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from community.platform.db import Database, asyncpg_args
from tests.conftest import Client, create_member, sign_in
from tests.discussions.conftest import start_thread
from tests.reflections.conftest import write

pytestmark = pytest.mark.live

WRITERS = 20
# Chance: a guess among twenty writers is right once in twenty, over thirty pieces; allow a little luck.
CHANCE = 3
# Columns that hold a member id, by table (anything else named like these too).
PEOPLE_COLUMNS = ("user_id", "author_id", "actor_id", "created_by", "requested_by", "decided_by", "member_id",
                  "host_id", "flagger_id", "invited_by", "role_changed_by", "used_by", "claimed_by")
REASONS = ["Please keep names out of this, writer {n}.", "A pause to cool down, writer {n}."]


async def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    connection = await asyncpg.connect(**asyncpg_args(url))
    try:
        tables = [r["table_name"] for r in await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")]
        dump = {}
        for table in tables:
            rows = await connection.fetch(f'SELECT xmin::text AS _xmin, to_jsonb(t)::text AS _row FROM "{table}" t')
            dump[table] = [{**json.loads(r["_row"]), "_xmin": r["_xmin"]} for r in rows]
        return dump
    finally:
        await connection.close()


def _member_of(table: str, row: dict[str, Any]) -> int | None:
    """The member a row names outright (the users row itself, or a column holding a member id)."""
    if table == "users":
        return row["id"]
    for column in PEOPLE_COLUMNS:
        if isinstance(row.get(column), int):
            return row[column]
    return None


def _member_rows(dump):  # type: ignore[no-untyped-def]
    for table, rows in dump.items():
        for row in rows:
            member = _member_of(table, row)
            if member is not None:
                yield table, row, member


def _values(row: dict[str, Any]) -> set[str]:
    return {str(v) for k, v in row.items() if k not in ("_xmin", "id") and v not in (None, "", 0, False, True)}


def _pieces_rows(dump, piece_ids: set[int]) -> dict[int, list[tuple[str, dict]]]:  # type: ignore[no-untyped-def]
    """Each anonymous piece and the rows plainly about it (its replies' rows are not: those are other people's)."""
    about: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for row in dump["reflections"]:
        if row["id"] in piece_ids:
            about[row["id"]].append(("reflections", row))
    for table in ("reflection_revisions", "reflection_drafts", "notifications", "review_items", "flags",
                  "audit_log"):
        for row in dump.get(table, []):
            rid = row.get("reflection_id")
            if rid is None and row.get("target_kind") in ("reflection",) or row.get("target_type") == "reflection":
                rid = row.get("target_id")
            if rid is not None and int(rid) in piece_ids:
                about[int(rid)].append((table, row))
    return about


def _score(guesses: dict[int, int | None], truth: dict[int, int]) -> int:
    return sum(1 for piece, member in guesses.items() if member is not None and truth[piece] == member)


def attack_equal_values(dump, about, truth):  # type: ignore[no-untyped-def]
    """A value (a timestamp, a tag, a text) shared between a piece's rows and rows that name a member."""
    by_value: dict[str, set[int]] = defaultdict(set)
    for _table, row, member in _member_rows(dump):
        for value in _values(row):
            if len(value) >= 8:
                by_value[value].add(member)
    guesses = {}
    for piece, rows in about.items():
        votes: dict[int, int] = defaultdict(int)
        for _table, row in rows:
            for value in _values(row):
                for member in by_value.get(value, ()):
                    votes[member] += 1
        guesses[piece] = max(votes, key=votes.get) if votes else None
    return guesses


def attack_equal_xmin(dump, about, truth):  # type: ignore[no-untyped-def]
    """Rows written by the same transaction as a piece's rows that name a member."""
    by_xmin: dict[str, set[int]] = defaultdict(set)
    for _table, row, member in _member_rows(dump):
        by_xmin[row["_xmin"]].add(member)
    guesses = {}
    for piece, rows in about.items():
        members = set().union(*(by_xmin.get(row["_xmin"], set()) for _t, row in rows))
        guesses[piece] = next(iter(members)) if len(members) == 1 else None
    return guesses


def attack_reason_text(dump, about, truth):  # type: ignore[no-untyped-def]
    """A moderator's reason about a piece, found in plaintext on a row that names a member."""
    guesses: dict[int, int | None] = {piece: None for piece in about}
    for _table, row, member in _member_rows(dump):
        text = json.dumps(row)
        for match in re.finditer(r"writer (\d+)\.", text):
            guesses[int(match.group(1))] = member
    return guesses


def _moments(row: dict[str, Any]) -> list[str]:
    return [v for k, v in row.items() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", v)]


def attack_nearest_time(dump, about, truth):  # type: ignore[no-untyped-def]
    """The member with activity (a session, a signed post) closest in time to the piece: the session-time match."""
    stamps = [(moment, member) for _t, row, member in _member_rows(dump) for moment in _moments(row)]
    guesses = {}
    for piece, rows in about.items():
        piece_rows = [row for table, row in rows if table == "reflections"]
        created = piece_rows[0]["created_at"]
        best = min(stamps, key=lambda s: abs(_seconds(s[0]) - _seconds(created)))
        tied = {m for moment, m in stamps if abs(_seconds(moment) - _seconds(created)) == abs(_seconds(best[0]) - _seconds(created))}
        guesses[piece] = best[1] if len(tied) == 1 else None
    return guesses


def _seconds(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def attack_neighbouring_ids(dump, about, truth):  # type: ignore[no-untyped-def]
    """Ids from one sequence shared with signed rows: the signed reflection just before a piece is often its
    writer's (they wrote one, then the other)."""
    signed = sorted((row["id"], member) for table, row, member in _member_rows(dump) if table == "reflections")
    guesses = {}
    for piece in about:
        before = [member for rid, member in signed if rid < piece]
        guesses[piece] = before[-1] if before else None
    return guesses


HEX64 = re.compile(r"^[0-9a-f]{64}$")


def linked_pairs(dump, about, truth) -> int:  # type: ignore[no-untyped-def]
    """Two anonymous pieces that share a keyed value (a tag) are one writer's: how many such links are right."""
    holders: dict[str, set[int]] = defaultdict(set)
    for piece, rows in about.items():
        for table, row in rows:
            if table == "reflections":
                for value in _values(row):
                    if HEX64.match(value):
                        holders[value].add(piece)
    right = set()
    for pieces in holders.values():
        for a in pieces:
            for b in pieces:
                if a < b and truth[a] == truth[b]:
                    right.add((a, b))
    return len(right)


async def test_a_database_copy_links_no_anonymous_piece_to_its_writer(live_server, live_database):
    db = Database(live_database)
    try:
        writers = [await create_member(db, "attending" if n % 4 == 0 else "resident", name=f"Writer Number{n}")
                   for n in range(WRITERS)]
        reader = await create_member(db, "resident", name="Steady Reader")
        moderator = await create_member(db, "moderator", name="Night Moderator")

        def client() -> Client:
            return Client(base_url=live_server.url, follow_redirects=False)

        truth: dict[int, int] = {}
        for n, writer in enumerate(writers):
            me = await sign_in(client(), db, writer)
            await start_thread(me, title=f"Signed question number {n}", body=f"Asking openly, as myself ({n}).")
            await write(me, title=f"Signed night {n}", body=f"Under my own name, piece {n}.", visibility="named")
            rid = await write(me, title=f"Unsigned night {n}", body=f"What I could not say out loud, piece {n}.",
                              visibility="anonymous")
            truth[rid] = writer.id
            if n % 2:
                again = await write(me, body=f"Another night I cannot sign, piece {n}b.", visibility="anonymous")
                truth[again] = writer.id
        them = await sign_in(client(), db, reader)
        for rid in truth:
            await them.post_form(f"/reflections/{rid}/replies", {"body": "Thank you for writing this."})
        mod = await sign_in(client(), db, moderator)
        pieces = sorted(truth)
        for n, rid in enumerate(pieces[:8]):
            action = {"action": "warn"} if n % 2 else {"action": "silence", "hours": "24"}
            response = await mod.post_form(f"/review/reflection/{rid}/decide",
                                           {**action, "reason": REASONS[n % 2].format(n=rid)})
            assert response.status_code == 303, response.text[:500]
        for writer in writers[::2]:
            me = await sign_in(client(), db, writer)
            assert (await me.post_form("/notifications/read", {})).status_code == 303
    finally:
        await db.dispose()

    dump = await _dump(live_database)
    about = _pieces_rows(dump, set(truth))
    assert len(about) == WRITERS + WRITERS // 2
    results = {attack.__name__: _score(attack(dump, about, truth), truth)
               for attack in (attack_equal_values, attack_equal_xmin, attack_reason_text, attack_nearest_time,
                              attack_neighbouring_ids)}
    results["linked_pairs"] = linked_pairs(dump, about, truth)
    assert all(score <= CHANCE for score in results.values()), results
