"""The router's routes, discovered, and the route × role table: what each visitor gets from each route.

`discover(app)` walks `app.routes` (Route, WebSocketRoute and Mount, recursively) for every method and path.
`TABLE` writes down, for each (method, path template), the status each role gets: GET is a plain request, POST
a same-site form post with a valid CSRF token and no fields (so it shows who may reach the handler: a 400 is a
form error the role was allowed to make; a 303 for the anonymous visitor is the way to the sign-in page). The
path parameters are filled from tests/security/world.py, written by members who are not the viewers.

A new route: add a line to TABLE (method, path template, then the statuses for anonymous, resident, attending,
moderator, admin) and, if it has a new path parameter, a seeded object in world.py. `-` means the route is not
requested in the matrix (a WebSocket, a static file: they have tests of their own, named in the notes).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from tests.security.world import ROLES, fill


@dataclass(frozen=True)
class Endpoint:
    method: str  # GET, POST, ..., or WS for a WebSocket
    path: str    # the template, with its convertors: /t/{thread_id:dbid}


def _walk(routes: list[BaseRoute], prefix: str = "") -> list[Endpoint]:
    found: list[Endpoint] = []
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                found.append(Endpoint(method, prefix + route.path))
        elif isinstance(route, WebSocketRoute):
            found.append(Endpoint("WS", prefix + route.path))
        elif isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner:
                found.extend(_walk(list(inner), prefix + route.path))
            else:  # an app of its own (static files): any method, any path below it
                found.append(Endpoint("MOUNT", prefix + route.path))
    return found


def discover(app) -> list[Endpoint]:
    """Every method and path the app answers, in router order."""
    return _walk(list(app.router.routes))


def post_routes(app) -> list[Endpoint]:
    return [e for e in discover(app) if e.method in ("POST", "PUT", "PATCH", "DELETE")]


# Values for path parameters that are not ids of seeded objects, by route: a route whose {kind} or {action}
# chooses what it does gets the kind or action named here. Tokens are made-up ones (a real one is a secret link:
# the matrix checks that a wrong one is refused the same way for everyone).
OVERRIDES: dict[str, dict[str, object]] = {
    "/flag/{kind}/{target_id:dbid}": {"kind": "post", "target_id": "{post_id}"},
    "/review/{kind}/{target_id:dbid}": {"kind": "post", "target_id": "{post_id}"},
    "/review/{kind}/{target_id:dbid}/decide": {"kind": "post", "target_id": "{post_id}"},
    "/reflections/moderate/{kind}/{target_id:dbid}/{action}": {"kind": "reflection", "target_id": "{reflection_id}",
                                                              "action": "check-in"},
    "/reflections/unmask/{kind}/{target_id:dbid}": {"kind": "reflection", "target_id": "{reflection_id}"},
    "/admin/members/{user_id:dbid}/{action}": {"action": "suspend"},
    "/unsubscribe/{token}": {"token": "not-a-real-token"},
    "/join/{token}": {"token": "not-a-real-token"},
    "/link/{token}": {"token": "not-a-real-token"},
    "/calendar/{token}.ics": {"token": "not-a-real-token"},
    "/admin/mail/caught/{name}": {"name": "nothing-here.eml"},
}


def values_for(template: str, ids: dict[str, object]) -> dict[str, object]:
    """The route's own values, with "{post_id}" references resolved from the world's ids."""
    out: dict[str, object] = {}
    for key, value in OVERRIDES.get(template, {}).items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            value = ids[value[1:-1]]
        out[key] = value
    return out


def concrete(endpoint: Endpoint, ids: dict[str, object]) -> str:
    """The endpoint's path with the world's objects in it."""
    return fill(endpoint.path, ids, values_for(endpoint.path, ids))


# method  path template                                              anonymous resident attending moderator admin
TABLE_TEXT = """
GET   /signin                                                    200  303  303  303  303
POST  /signin                                                    400  400  400  400  400
GET   /login                                                     301  301  301  301  301
GET   /sign-in                                                   301  301  301  301  301
GET   /log-in                                                    301  301  301  301  301
POST  /signout                                                   in   in   in   in   in
GET   /forgot                                                    200  200  200  200  200
POST  /forgot                                                    400  400  400  400  400
GET   /join/{token}                                              404  404  404  404  404
POST  /join/{token}                                              404  404  404  404  404
GET   /link/{token}                                              400  400  400  400  400  # a wrong one-time link
POST  /link/{token}                                              400  400  400  400  400  # a wrong one-time link
GET   /account                                                   in   200  200  200  200
POST  /account                                                   in   400  400  400  400
GET   /account/password                                          in   200  200  200  200
POST  /account/password                                          in   400  400  400  400
GET   /admin                                                     in   403  403  200  200
GET   /admin/members                                             in   403  403  403  200
GET   /admin/members/{user_id:dbid}                              in   403  403  403  200
POST  /admin/members/{user_id:dbid}/{action}                     in   403  403  403  400
POST  /admin/approvals/{approval_id:dbid}                        in   403  403  403  303
GET   /admin/invitations                                         in   403  403  200  200
POST  /admin/invitations                                         in   403  403  400  400
GET   /admin/invitations/mail                                    in   403  403  200  200
POST  /admin/invitations/mail                                    in   403  403  400  400
POST  /admin/invitations/{invitation_id:dbid}/revoke             in   403  403  303  303
POST  /admin/invitations/{invitation_id:dbid}/resend             in   403  403  303  303
GET   /admin/audit                                             in   403  403  200  200
GET   /flag/{kind}/{target_id:dbid}                              in   200  200  200  200
POST  /flag/{kind}/{target_id:dbid}                              in   400  400  400  400
GET   /review                                                    in   403  403  200  200
GET   /review/pulse                                              in   403  403  200  200
POST  /review/items/{item_id:dbid}/claim                         in   403  403  303  303
POST  /review/items/{item_id:dbid}/acknowledge                   in   403  403  303  303
GET   /account/on-call                                           in   403  403  200  200
POST  /account/on-call                                           in   403  403  303  303
GET   /review/{kind}/{target_id:dbid}                            in   403  403  200  200
POST  /review/{kind}/{target_id:dbid}/decide                     in   403  403  400  400
GET   /admin/watched-words                                     in   403  403  200  200
POST  /admin/watched-words                                     in   403  403  400  400
POST  /admin/watched-words/test                                in   403  403  400  400
POST  /admin/watched-words/{word_id:dbid}/delete                 in   403  403  403  303
GET   /members/suggest                                           in   200  200  200  200
GET   /members/{handle:str}                                      in   200  200  200  200
GET   /signin/factor                                             in   303  303  303  303
POST  /signin/factor                                             in   400  400  400  400
POST  /signin/factor/passkey-options                             401  404  404  404  404
GET   /account/security                                          in   200  200  200  200
GET   /account/security/totp                                     in   200  200  200  200
POST  /account/security/totp                                     in   400  400  400  400
GET   /account/security/passkey                                  in   200  200  200  200
POST  /account/security/passkey                                  in   400  400  400  400
POST  /account/security/passkey-options                          in   200  200  200  200
POST  /account/security/factors/{factor_id:dbid}/remove          in   404  404  404  404
POST  /account/security/recovery                                 in   400  400  400  400
GET   /account/sessions                                          in   200  200  200  200
POST  /account/sessions/others/end                               in   303  303  303  303
POST  /account/sessions/length                                   in   303  303  303  303
POST  /account/sessions/{session_id:dbid}/end                    in   404  404  404  404
GET   /metrics                                                   404  404  404  404  404
GET   /admin/settings                                            in   403  403  403  200
POST  /admin/settings                                            in   403  403  403  400
GET   /drafts                                                    in   200  200  200  200
GET   /drafts/one                                                401  400  400  400  400
POST  /drafts/save                                               401  400  400  400  400
POST  /drafts/delete                                             in   303  303  303  303
GET   /account/card                                              in   200  200  200  200
POST  /account/card                                              in   400  400  400  400
GET   /mentors                                                   in   200  200  200  200
GET   /mentors/me                                                in   200  200  200  200
POST  /mentors/me                                                in   303  303  303  303
POST  /mentors/me/hours                                          in   403  403  403  403
POST  /mentors/me/hours/{hours_id:dbid}/remove                   in   404  404  404  404
GET   /mentors/{mentor_id:dbid}                                  in   200  200  200  200
POST  /mentors/{mentor_id:dbid}/book                             in   400  400  400  400
GET   /mentorship/bookings                                       in   200  200  200  200
GET   /mentorship/bookings/{booking_id:dbid}                     in   404  404  404  404
GET   /mentorship/bookings/{booking_id:dbid}/calendar.ics        in   404  404  404  404
POST  /mentorship/bookings/{booking_id:dbid}/cancel              in   404  404  404  404
POST  /mentorship/bookings/{booking_id:dbid}/move                in   404  404  404  404
GET   /mentors/{mentor_id:dbid}/ask                              in   200  200  200  200
POST  /mentors/{mentor_id:dbid}/ask                              in   400  400  400  400
GET   /mentorship/conversations                                  in   200  200  200  200
GET   /mentorship/conversations/{conversation_id:dbid}           in   404  404  404  404
POST  /mentorship/conversations/{conversation_id:dbid}/write     in   404  404  404  404
POST  /mentorship/conversations/{conversation_id:dbid}/answer    in   404  404  404  404
GET   /notifications                                             in   200  200  200  200
POST  /notifications/read                                        in   303  303  303  303
GET   /notifications/{note_id:dbid}                              in   404  404  404  404  # the writer's notification: nobody else's
POST  /safety/check                                              in   200  200  200  200
GET   /account/data                                              in   200  200  200  200
GET   /account/data/export.json                                  in   200  200  200  200
GET   /account/data/export.zip                                   in   200  200  200  200
POST  /account/data/delete                                       in   400  400  400  400
GET   /checkins/{checkin_id:dbid}                                in   404  404  404  404  # the writer's and its moderator's only
POST  /checkins/{checkin_id:dbid}/reply                          in   404  404  404  404
POST  /checkins/{checkin_id:dbid}/close                          in   404  404  404  404
GET   /account/email                                             in   200  200  200  200
POST  /account/email                                             in   303  303  303  303
GET   /unsubscribe/{token}                                       404  404  404  404  404
POST  /unsubscribe/{token}                                       404  404  404  404  404
GET   /admin/mail                                                in   403  403  403  200
POST  /admin/mail/test                                           in   403  403  403  303
GET   /admin/mail/caught/{name}                                  in   403  403  403  404
POST  /admin/mail/{message_id:dbid}/retry                        in   403  403  403  303
GET   /c                                                         in   200  200  200  200
GET   /c/{slug}                                                  in   200  200  200  200
GET   /c/{slug}/new                                              in   200  200  200  200
POST  /c/{slug}/new                                              in   400  400  400  400
GET   /t/{thread_id:dbid}                                        in   200  200  200  200
GET   /t/{thread_id:dbid}/unread                                 in   303  303  303  303
GET   /t/{thread_id:dbid}/reply                                  in   200  200  200  200
POST  /t/{thread_id:dbid}/reply                                  in   400  400  400  400
POST  /t/{thread_id:dbid}/watch                                  in   303  303  303  303
GET   /p/{post_id:dbid}                                          in   303  303  303  303
GET   /p/{post_id:dbid}/edit                                     in   403  403  403  403  # another's post
POST  /p/{post_id:dbid}/edit                                     in   403  403  403  403  # another's post
GET   /p/{post_id:dbid}/delete                                   in   403  403  403  403
POST  /p/{post_id:dbid}/delete                                   in   403  403  403  403
POST  /p/{post_id:dbid}/react                                    in   400  400  400  400
GET   /p/{post_id:dbid}/history                                  in   403  403  200  200
GET   /search                                                    in   200  200  200  200
GET   /admin/categories                                          in   403  403  403  200
POST  /admin/categories                                          in   403  403  403  400
GET   /admin/categories/{category_id:dbid}                       in   403  403  403  200
POST  /admin/categories/{category_id:dbid}                       in   403  403  403  400
POST  /admin/categories/{category_id:dbid}/move                  in   403  403  403  400
POST  /admin/categories/{category_id:dbid}/archive               in   403  403  403  303
GET   /reflections                                               in   200  200  200  200
GET   /reflections/new                                           in   200  200  200  200
POST  /reflections/new                                           in   400  400  400  400
GET   /reflections/{reflection_id:dbid}                          in   200  200  200  200
GET   /reflections/{reflection_id:dbid}/edit                     in   404  404  404  404  # an anonymous writer's: 404 to all others
POST  /reflections/{reflection_id:dbid}/edit                     in   404  404  404  404  # an anonymous writer's: 404 to all others
POST  /reflections/{reflection_id:dbid}/visibility               in   404  404  404  404
GET   /reflections/{reflection_id:dbid}/delete                   in   404  404  404  404
POST  /reflections/{reflection_id:dbid}/delete                   in   404  404  404  404
POST  /reflections/{reflection_id:dbid}/replies                  in   400  400  400  400
POST  /reflections/{reflection_id:dbid}/react                    in   400  400  400  400
GET   /reflections/replies/{reply_id:dbid}/edit                  in   404  404  404  404
POST  /reflections/replies/{reply_id:dbid}/edit                  in   404  404  404  404
POST  /reflections/replies/{reply_id:dbid}/delete                in   404  404  404  404
POST  /reflections/drafts                                        401  400  400  400  400  # JSON: 401 signed out
GET   /journal                                                   in   200  200  200  200
GET   /journal/replies                                           in   200  200  200  200
GET   /prompts                                                   in   200  200  200  200
GET   /prompts/new                                               in   403  403  200  200
POST  /prompts/new                                               in   403  403  400  400
GET   /prompts/{prompt_id:dbid}/edit                             in   403  403  200  200
POST  /prompts/{prompt_id:dbid}/edit                             in   403  403  400  400
POST  /prompts/{prompt_id:dbid}/pin                              in   403  403  403  303
POST  /prompts/unpin                                             in   403  403  403  303
POST  /reflections/moderate/{kind}/{target_id:dbid}/{action}     in   403  403  400  400
GET   /reflections/unmask/{kind}/{target_id:dbid}                in   403  403  403  200
POST  /reflections/unmask/{kind}/{target_id:dbid}                in   403  403  403  400
GET   /admin/unmask                                              in   403  403  403  200
GET   /admin/unmask/{request_id:dbid}                            in   403  403  403  200
POST  /admin/unmask/{request_id:dbid}/decide                     in   403  403  403  400
GET   /rooms/calendar                                            in   200  200  200  200
POST  /rooms/calendar/feed                                       in   200  200  200  200
POST  /rooms/calendar/feed/revoke                                in   303  303  303  303
POST  /rooms/{room_id:dbid}/follow                               in   303  303  303  303
POST  /rooms/hosts/{host_id:dbid}/follow                         in   303  303  303  303
GET   /calendar/{token}.ics                                      404  404  404  404  404
GET   /rooms                                                     in   200  200  200  200
GET   /rooms/new                                                 in   403  200  200  200
POST  /rooms/new                                                 in   403  400  400  400
GET   /rooms/{room_id:dbid}                                      in   200  200  200  200
POST  /rooms/{room_id:dbid}/join                                 in   400  400  400  400
POST  /rooms/{room_id:dbid}/lock                                 in   403  403  303  303
POST  /rooms/{room_id:dbid}/slow                                 in   403  403  303  303
POST  /rooms/{room_id:dbid}/end                                  in   403  403  303  303
POST  /rooms/{room_id:dbid}/messages/{seq:dbid}/delete           in   403  403  303  303
POST  /rooms/{room_id:dbid}/participants/{pid:dbid}/mute         in   403  403  303  303
POST  /rooms/{room_id:dbid}/participants/{pid:dbid}/remove       in   403  403  303  303
WS    /rooms/{room_id:dbid}/ws                                   -    -    -    -    -  # tests/security/test_origin_and_redirects.py
GET   /                                                          200  200  200  200  200
GET   /guidelines                                                200  200  200  200  200
GET   /resources                                                 200  200  200  200  200
GET   /healthz                                                   200  200  200  200  200
GET   /readyz                                                    200  200  200  200  200
MOUNT /static                                                    -    -    -    -    -  # static files
"""


def parse_table(text: str) -> dict[Endpoint, tuple[str, ...]]:
    table: dict[Endpoint, tuple[str, ...]] = {}
    for line in text.strip().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        method, path, *statuses = line.split()
        assert len(statuses) == len(ROLES), f"{line!r}: one status per role {ROLES}"
        endpoint = Endpoint(method, path)
        assert endpoint not in table, f"{line!r} is in the table twice"
        table[endpoint] = tuple(statuses)
    return table


TABLE = parse_table(TABLE_TEXT)
