"""The reflections visibility rule, written once, agrees with itself in SQL and in Python."""

from __future__ import annotations

import itertools

from community.platform.states import State, Visibility
from community.reflections.policy import others_may_see, others_may_see_sql


async def test_sql_and_python_rules_agree(db):
    async with db.raw() as conn:
        for visibility, state, moderator in itertools.product(list(Visibility), list(State), (False, True)):
            expected = others_may_see(visibility, state, moderator=moderator)
            seen = await conn.fetchval(f"SELECT {others_may_see_sql('r', '$3::boolean')} "
                                       "FROM (SELECT $1::text AS visibility, $2::text AS state) r",
                                       str(visibility), str(state), moderator)
            assert seen is expected, (visibility, state, moderator)
    assert not others_may_see("private", "visible", moderator=True)
    assert others_may_see("anonymous", "hidden", moderator=True) and not others_may_see("named", "hidden", moderator=False)
