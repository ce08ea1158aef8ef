"""The discussions visibility rule, written once, agrees with itself in SQL and in Python."""

from __future__ import annotations

import itertools

from community.discussions.policy import thread_visible_sql, visible_to
from community.platform.states import State
from community.platform.viewer import Viewer


async def test_sql_and_python_rules_agree(db):
    cases = []
    for state, moderator, own in itertools.product(list(State), (False, True), (False, True)):
        viewer = Viewer(id=7, display_name="V", handle="v", role="moderator" if moderator else "resident", email="")
        author = 7 if own else 8
        cases.append((state, moderator, author, visible_to(viewer, state, author)))
    async with db.raw() as conn:
        for state, moderator, author, expected in cases:
            seen = await conn.fetchval(
                f"SELECT {thread_visible_sql('t', '$1', '$2')} FROM (SELECT $3::text AS state, $4::bigint AS author_id) t",
                7, moderator, str(state), author)
            assert seen is expected, (state, moderator, author)
    # The rule itself: visible to all; moderators see everything; authors their own unless removed.
    outcomes = {(str(s), m, a == 7): e for s, m, a, e in cases}
    assert outcomes[("hidden", False, True)] and not outcomes[("removed", False, True)]
    assert not outcomes[("pending", False, False)] and outcomes[("removed", True, False)]
