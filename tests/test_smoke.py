"""Smoke: the app serves its public pages against the real database."""


async def test_public_pages(client):
    for path in ("/", "/signin", "/guidelines", "/resources", "/healthz"):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_readyz(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["ready"] is True


async def test_signed_in_home_shows_prompt_rooms_and_threads(member_factory, login):
    c = await login(await member_factory("resident", name="Hana Home"))
    page = await c.get("/")
    assert page.status_code == 200
    assert "Welcome back, Hana Home" in page.text
    assert "Prompt of the week" in page.text and "/reflections/new?prompt=" in page.text
    assert "Live rooms" in page.text and "/rooms/" in page.text
    assert "Recent conversations" in page.text
