"""The composer's live screening endpoint: members only, resources for crisis, identifiers for shared writing."""


async def test_requires_sign_in(client):
    response = await client.post_form("/safety/check", {"text": "anything"})
    assert response.status_code == 303


async def test_crisis_and_identifiers(member_factory, login):
    c = await login(await member_factory("resident"))
    response = await c.post_form("/safety/check", {"text": "I can't do this anymore, I want to disappear."})
    assert response.status_code == 200 and response.json()["crisis"] is True
    response = await c.post_form("/safety/check", {"text": "This shift is killing me, but the team was great."})
    assert response.json()["crisis"] is False
    response = await c.post_form("/safety/check", {"text": "Mr. Alvarez in bed 4 was scared all night."})
    body = response.json()
    assert body["findings"] and "<mark" in body["highlighted"]


async def test_private_entries_get_no_identifier_check(member_factory, login):
    c = await login(await member_factory("resident"))
    response = await c.post_form("/safety/check", {"text": "Mr. Alvarez in bed 4.", "private": "1"})
    assert response.json()["findings"] == []


async def test_bad_input(member_factory, login):
    c = await login(await member_factory("resident"))
    await c.ensure_csrf()
    response = await c.post("/safety/check", content=b"text=%FF%00&csrf_token=" + c.cookies.get("csrf").encode(),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    response = await c.post_form("/safety/check", {})
    assert response.status_code == 200 and response.json()["crisis"] is False
