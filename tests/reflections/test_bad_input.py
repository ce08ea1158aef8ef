"""Bad input on every reflection form: a clear message, a 4xx, the draft kept, never a 500."""

from __future__ import annotations

import pytest

from tests.reflections.conftest import write


async def _raw(client, path: str, body: bytes):
    token = client.cookies.get("csrf")
    return await client.post(path, content=body + b"&csrf_token=" + token.encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize("fields,message", [
    ({"body": ""}, "Please write something first"),
    ({"body": "   \n  "}, "Please write something first"),
    ({"body": "x" * 20001}, "at most 20,000 characters"),
    ({"title": "t" * 201, "body": "ok"}, "at most 200 characters"),
    ({"visibility": "public", "body": "ok"}, "Choose who can read this"),
    ({"prompt_id": "abc", "body": "ok"}, "That prompt is not valid"),
    ({"prompt_id": "99999999", "body": "ok"}, "That prompt no longer exists"),
    ({"prompt_id": "1" * 40, "body": "ok"}, "That prompt is not valid"),
    ({"theme": "<b>x</b>", "body": "ok"}, "Choose one of the themes"),
])
async def test_compose_rejects_with_a_message_and_keeps_the_text(fields, message, member_factory, login):
    me = await login(await member_factory())
    data = {"title": "Kept title", "body": "Kept body", "visibility": "private", "intent": "publish", **fields}
    response = await me.post_form("/reflections/new", data)
    assert response.status_code == 400, response.text[:500]
    assert message in response.text
    if len(data["body"]) < 100 and data["body"].strip():
        assert data["body"] in response.text


async def test_invalid_utf8_and_nul(member_factory, login):
    me = await login(await member_factory())
    for raw, message in ((b"body=caf%FF+latte&title=T&visibility=private&intent=publish", "not valid UTF-8"),
                         (b"body=a%00b+c&title=T&visibility=private&intent=publish", "NUL character")):
        response = await _raw(me, "/reflections/new", raw)
        assert response.status_code == 400 and message in response.text
    # The cleaned text is kept as a draft.
    page = await me.get("/reflections/new")
    assert "ab c" in page.text or "caf" in page.text
    for raw in (b"title=%FF&body=x&intent=draft", b"body=%00&intent=draft"):
        assert (await _raw(me, "/reflections/new", raw)).status_code == 400


async def test_wrong_types_and_odd_fields(member_factory, login):
    me = await login(await member_factory())
    for raw in (b"body=ok&visibility=private&visibility=named&intent=publish&prompt_id=-3",
                b"body=ok&visibility=&intent=publish", b"body[]=x&visibility=private&intent=publish",
                b"%FF=1&body=&intent=publish"):
        response = await _raw(me, "/reflections/new", raw)
        assert response.status_code == 400, raw


async def test_reply_and_other_forms(member_factory, login):
    author, reader, mod, admin = (await member_factory(), await member_factory(), await member_factory("moderator"),
                                  await member_factory("admin"))
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Open.", visibility="anonymous")
    cases = [
        (them, f"/reflections/{rid}/replies", b"body=", "Please write something first"),
        (them, f"/reflections/{rid}/replies", b"body=" + b"y" * 5001, "at most 5,000"),
        (them, f"/reflections/{rid}/replies", b"body=caf%FF", "not valid UTF-8"),
        (them, f"/reflections/{rid}/replies", b"body=a%00b", "NUL"),
        (them, f"/reflections/{rid}/react", b"kind=%00", "NUL"),
        (me, f"/reflections/{rid}/visibility", b"visibility=public", "Choose who can read this"),
        (me, f"/reflections/{rid}/visibility", b"visibility=%FF", "not valid UTF-8"),
        (me, f"/reflections/{rid}/edit", b"body=&visibility=anonymous&intent=publish", "Please write something"),
        (await login(mod), f"/reflections/moderate/reflection/{rid}/decide", b"decision=obliterate&reason=x",
         "Choose hide, remove or restore"),
        (await login(mod), f"/reflections/moderate/reflection/{rid}/sanction", b"sanction=silence&days=abc&reason=x",
         "Please enter a whole number"),
        (await login(mod), f"/reflections/moderate/reflection/{rid}/check-in", b"message=", "Please write the message"),
        (await login(admin), f"/reflections/unmask/reflection/{rid}", b"reason=%00%00", "NUL"),
        (await login(mod), "/prompts/new", b"theme=time&title=%FF&text=x&minutes=2", "not valid UTF-8"),
        (me, "/account/data/delete", b"choice=remove&password=%FF", "not valid UTF-8"),
    ]
    for client, path, raw, message in cases:
        response = await _raw(client, path, raw)
        assert response.status_code == 400, (path, raw, response.status_code)
        assert message in response.text, (path, raw)


async def test_odd_paths_are_404(member_factory, login):
    me = await login(await member_factory())
    for path in ("/reflections/abc", "/reflections/" + "9" * 25, "/reflections/0", "/reflections/99999999999",
                 "/prompts/999999999/edit", "/reflections/unmask/banana/1"):
        assert (await me.get(path)).status_code in (403, 404), path
