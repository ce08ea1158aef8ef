"""Search covers shared reflections (issue 19) by the wall's own rules: named and anonymous pieces on the wall,
never a private journal entry, never a hidden piece, and never who wrote an anonymous one."""

from __future__ import annotations

from sqlalchemy import update

from community.reflections.models import Reflection
from tests.reflections.conftest import write


async def test_search_finds_shared_reflections_and_never_private_ones(member_factory, login, db):
    writer_user = await member_factory("resident", name="Quentin Searchwriter")
    writer = await login(writer_user)
    reader = await login(await member_factory("attending"))
    named = await write(writer, title="Zebrafinch named", body="The zebrafinch shift went long.", visibility="named")
    anonymous = await write(writer, title="Zebrafinch anonymous", body="A zebrafinch morning, quietly.",
                            visibility="anonymous")
    await write(writer, title="Zebrafinch private", body="My zebrafinch journal only.", visibility="private")
    hidden = await write(writer, title="Zebrafinch hidden", body="A zebrafinch piece under review.",
                         visibility="named")
    async with db.transaction() as session:
        await session.execute(update(Reflection).where(Reflection.id == hidden).values(state="hidden"))

    page = await reader.get("/search", params={"q": "zebrafinch"})
    assert page.status_code == 200
    text = page.text
    assert "Shared reflections" in text
    assert f'href="/reflections/{named}"' in text and f'href="/reflections/{anonymous}"' in text
    assert "Zebrafinch private" not in text and "journal only" not in text
    assert "Zebrafinch hidden" not in text
    # The anonymous result says "Anonymous"; the named one its writer's name, once.
    assert text.count("Quentin Searchwriter") == 1
    anonymous_card = text.split(f'href="/reflections/{anonymous}"', 1)[1].split("</li>", 1)[0]
    assert "Anonymous" in anonymous_card and "Quentin" not in anonymous_card
    # The writer's own search shows no more than anyone else's: private writing is searched in the journal.
    own = (await writer.get("/search", params={"q": "zebrafinch"})).text
    assert "Zebrafinch private" not in own


async def test_bad_search_input_is_a_clear_400(member_factory, login):
    reader = await login(await member_factory("resident"))
    response = await reader.get("/search", params={"q": "x" * 5000})
    assert response.status_code == 400 and "at most 200 characters" in response.text
    assert "Shared reflections" not in response.text
