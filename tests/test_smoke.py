"""Smoke: the app serves its public pages against the real database."""


async def test_public_pages(client):
    for path in ("/", "/signin", "/guidelines", "/resources", "/healthz"):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_readyz(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["ready"] is True
