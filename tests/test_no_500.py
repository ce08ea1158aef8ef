"""No input makes the server answer 500: every route, every role, with odd ids and garbage forms."""

import re

import pytest
from starlette.routing import Mount, Route

# Unicode digits: "²".isdigit() is true and int("²") raises; int("٣") and int("１") read as numbers.
UNICODE_DIGITS = ["²", "٣", "１", "1²", "١٢"]
ODD_IDS = ["0", "1", "999999999999999999999999", "-1", "abc", "%00", "%FF", "1.5", *UNICODE_DIGITS]
# Every query parameter a page reads.
QUERY_NAMES = ["page", "before", "after", "offset", "q", "show", "status", "role", "theme", "visibility", "view",
               "quote", "to", "link", "next", "support", "welcome", "action", "actor", "target", "since", "prompt",
               "prompt_id", "id", "slot"]
INTEGER_FIELDS = ["days", "hours", "minutes", "seconds", "capacity", "category_id", "prompt_id", "position",
                  "retention_hours", "reply_to", "id", "slow_mode_seconds"]
GARBAGE_FORMS = [
    {},
    {"title": "", "body": "", "reason": "", "action": "", "kind": "", "role": "", "days": "", "hours": ""},
    {"title": "x" * 300, "body": "y" * 25000, "reason": "z" * 2000, "days": "-5", "hours": "1e9",
     "action": "explode", "kind": "nonsense", "visibility": "public!", "choice": "??", "role": "emperor",
     "category_id": "NaN", "prompt_id": "x", "theme": "../../etc", "position": "9" * 30, "capacity": "-1",
     "starts_at": "yesterday", "ends_at": "2020-13-45T99:99", "retention_hours": "forever", "seconds": "[]"},
    {"title": "<script>alert(1)</script>", "body": "<img src=x onerror=alert(1)>", "reason": "\u202e\u0000x",
     "email": "a@b", "password": "p", "display_name": "\ud800"},
    # Dates that parse, then overflow when moved to UTC or stored (year 1, year 9999, far offsets).
    {"title": "Edge of time", "description": "x", "starts_at": "9999-12-31T23:59:59-14:00",
     "ends_at": "0001-01-01T00:00:00+14:00", "capacity": "10", "since": "0001-01-01T00:00:00+14:00"},
    *({"title": "Digits", "body": "Digits", "reason": "r", "action": "silence", "content": "hide",
       **{name: digit for name in INTEGER_FIELDS}} for digit in UNICODE_DIGITS),
]


def concrete_paths(app) -> list[tuple[str, set[str]]]:
    out = []
    for route in app.router.routes:
        if isinstance(route, Mount) or not isinstance(route, Route):
            continue
        params = re.findall(r"{([^}:]+)(?::[^}]+)?}", route.path)
        if not params:
            out.append((route.path, route.methods or {"GET"}))
            continue
        for odd in ODD_IDS:
            path = re.sub(r"{[^}]+}", odd, route.path)
            out.append((path, route.methods or {"GET"}))
    return out


@pytest.mark.parametrize("role", ["signed out", "resident", "moderator", "admin"])
async def test_no_route_answers_500(app, client, member_factory, login, role):
    c = client if role == "signed out" else await login(await member_factory(role))
    failures = []
    for path, methods in concrete_paths(app):
        if path in ("/signout",):
            continue
        if "GET" in methods:
            response = await c.get(path, params={"page": "-1", "before": "x", "q": "\x00%",
                                                 "after": "0001-01-01T00:00:00+14:00~1",
                                                 "since": "9999-12-31T23:59:59-14:00"})
            if response.status_code >= 500:
                failures.append(("GET", path, response.status_code))
        if "POST" in methods:
            for form in GARBAGE_FORMS:
                clean = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in form.items()}
                response = await c.post_form(path, clean)
                if response.status_code >= 500:
                    failures.append(("POST", path, response.status_code, sorted(form)[:3]))
    assert failures == []


@pytest.mark.parametrize("role", ["signed out", "resident", "admin"])
async def test_unicode_digits_in_query_strings_never_answer_500(app, client, member_factory, login, role):
    c = client if role == "signed out" else await login(await member_factory(role))
    failures = []
    for path, methods in concrete_paths(app):
        if "GET" not in methods or path in ("/signout",):
            continue
        for digit in UNICODE_DIGITS:
            response = await c.get(path, params={name: digit for name in QUERY_NAMES})
            if response.status_code >= 500:
                failures.append((path, digit, response.status_code))
    assert failures == []


def test_the_parser_reads_ascii_digits_only():
    from community.platform.numbers import parse_int

    assert [parse_int(v) for v in ("0", "42", " 7 ", "007")] == [0, 42, 7, 7]
    assert [parse_int(v) for v in (*UNICODE_DIGITS, "", "-1", "1.5", "1e3", "+3", None)] == [None] * 11
    assert parse_int("1" * 19) is None and parse_int("1" * 18) == int("1" * 18)
    assert parse_int("5", low=6) is None and parse_int("5", high=4) is None and parse_int("5", low=5, high=5) == 5

