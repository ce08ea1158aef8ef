"""Bare baselines for the HTTP benchmarks, served by the same uvicorn settings as `community serve`.

b0: plaintext from a bare Starlette route (the floor: uvicorn + Starlette routing, nothing else).
b1: a fortunes-style page: one raw asyncpg query, one row added in memory, sorted, one autoescaped Jinja2 render.
    Our pages are measured against it: what a page costs beyond one query and one template.

    python -m bench.baselines --port 8101 --database-url postgresql://... [--workers 1]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from jinja2 import Environment, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from community.cli import server_options

FORTUNES_TABLE = "bench_fortunes"
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fortunes</title></head>
<body><table><tr><th>id</th><th>message</th></tr>
{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>
{% endfor %}</table></body></html>"""

# Exactly what community/cli.py passes to uvicorn.run (keep in step), so the baselines pay the same server costs.
# The same server settings as `community serve`, from one place.
UVICORN_OPTIONS = server_options()


async def create_fortunes(conn: asyncpg.Connection) -> None:
    """The b1 table, in the benchmark database only (never a migration: it is not part of the app)."""
    await conn.execute(f"DROP TABLE IF EXISTS {FORTUNES_TABLE}")
    await conn.execute(f"CREATE TABLE {FORTUNES_TABLE} (id integer PRIMARY KEY, message text NOT NULL)")
    await conn.executemany(f"INSERT INTO {FORTUNES_TABLE} (id, message) VALUES ($1, $2)",
                           list(enumerate(FORTUNES, start=1)))


def create_app(database_url: str) -> Starlette:
    template = Environment(autoescape=select_autoescape(default=True), enable_async=False).from_string(TEMPLATE)
    state: dict[str, asyncpg.Pool] = {}

    async def plaintext(request: Request) -> Response:
        return PlainTextResponse("Hello, World!")

    async def fortunes(request: Request) -> Response:
        async with state["pool"].acquire() as conn:
            rows = await conn.fetch(f"SELECT id, message FROM {FORTUNES_TABLE}")
        items = [(r["id"], r["message"]) for r in rows]
        items.append((0, "Additional fortune added at request time."))
        items.sort(key=lambda item: item[1])
        return HTMLResponse(template.render(fortunes=items))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from community.platform.db import asyncpg_args

        # The app's SQLAlchemy pool is 10 + 10 overflow per process: the same ceiling here.
        state["pool"] = await asyncpg.create_pool(**asyncpg_args(database_url), min_size=10, max_size=20)
        try:
            yield
        finally:
            await state["pool"].close()

    return Starlette(routes=[Route("/plaintext", plaintext), Route("/fortunes", fortunes),
                             Route("/healthz", plaintext)], lifespan=lifespan)


def factory() -> Starlette:
    return create_app(os.environ["BENCH_DATABASE_URL"])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    os.environ["BENCH_DATABASE_URL"] = args.database_url  # worker processes read it in factory()
    uvicorn.run("bench.baselines:factory", factory=True, host="127.0.0.1", port=args.port, workers=args.workers,
                **UVICORN_OPTIONS)


if __name__ == "__main__":
    main()
