"""Security regression tests share the discussion tests' fixtures (members by role, a lifted posting limit) and
the rooms tests' live servers.

The route suite (the route × role matrix, CSRF on every POST route, the fuzz of every field) shares one seeded
world, built once per run in a database of its own (`secured`): an app bound to one connection inside an outer
transaction, every request of those tests in a savepoint rolled back after it, so each meets the same world.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from community.app import create_app
from community.platform.db import Database, async_url
from tests.conftest import RUN, Client, clone_database, make_settings
from tests.discussions.conftest import (  # noqa: F401  (fixtures are found by name)
    admin,
    attending,
    login_with,
    moderator,
    resident,
    settings,
)
from tests.rooms.conftest import rooms_env  # noqa: F401
from tests.security.forms import Harvest, harvest
from tests.security.routes import Endpoint, concrete, discover
from tests.security.world import World, build_world


@dataclass
class Secured:
    app: object
    db: Database
    world: World
    endpoints: list[Endpoint]
    found: Harvest


@pytest.fixture(scope="session")
async def secured(database_urls, tmp_path_factory) -> AsyncIterator[Secured]:
    url = await clone_database(database_urls, f"{RUN}_security")
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    clients: list[Client] = []
    async with engine.connect() as connection:
        outer = await connection.begin()
        db = Database("", engine=engine, bind=connection)
        app = create_app(make_settings(url, tmp_path_factory.mktemp("security"), posts_per_minute=1000), db=db)

        def make_client() -> Client:
            clients.append(Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver"))
            return clients[-1]

        world = await build_world(db, make_client)
        endpoints = discover(app)
        pages = [concrete(e, world.ids) for e in endpoints if e.method == "GET"]
        found = await harvest(endpoints, [world.writers["writer"], world.clients["admin"],
                                          world.clients["anonymous"]], pages)
        yield Secured(app, db, world, endpoints, found)
        for client in clients:
            await client.aclose()
        await outer.rollback()
    await engine.dispose()
