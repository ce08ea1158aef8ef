"""A Router that only tries the routes that can match the request's first path segment.

Starlette's Router tries every route in order (a regex each); with a hundred routes that costs more than the
rest of a simple request. Indexing by the first literal segment keeps the same order and semantics: a route
whose first segment is a parameter, and any non-Route (Mount, WebSocketRoute with params...), stays a candidate
for every path.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute, get_route_path
from starlette.types import Receive, Scope, Send


def _first_literal(route: BaseRoute) -> str | None:
    if not isinstance(route, (Route, WebSocketRoute)):
        return None
    segment = route.path.lstrip("/").split("/", 1)[0]
    return None if "{" in segment else segment


class IndexedRouter(Router):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._index: dict[str, list[BaseRoute]] = {}
        self._wildcards: list[BaseRoute] = []
        self.reindex()

    def reindex(self) -> None:
        literals = {_first_literal(r) for r in self.routes} - {None}
        self._index = {key: [r for r in self.routes if _first_literal(r) in (key, None)] for key in literals}
        self._wildcards = [r for r in self.routes if _first_literal(r) is None]

    def candidates(self, scope: Scope) -> list[BaseRoute]:
        first = get_route_path(scope).lstrip("/").split("/", 1)[0]
        return self._index.get(first, self._wildcards)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        partial = None
        partial_scope: dict = {}
        for route in self.candidates(scope):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        # Nothing matched: the full (slow) path handles trailing-slash redirects and the 404.
        await super().app(scope, receive, send)
