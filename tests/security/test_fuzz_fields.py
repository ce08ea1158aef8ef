"""The fuzz of every query parameter and form field, on every route: Unicode digits, oversized and negative
numbers, wrong types (words for numbers, empty values, repeated keys), over-long strings. Nothing answers 5xx.

Fields come from the forms the pages render (tests/security/forms.py), posted as the member who was shown the
form, one field fuzzed at a time with the others at the values the page gave them (so the odd value gets past the
rest of the form's checks to its own parser). Query parameters: those the pages' links and GET forms use, those
the handlers read (found in the code) and tests/test_no_500.py's list. Every request runs in a savepoint rolled
back after it.
"""

from __future__ import annotations

from tests.security.forms import query_names
from tests.security.routes import concrete
from tests.security.world import isolated
from tests.test_no_500 import INTEGER_FIELDS, QUERY_NAMES

REPEATED = ["1", "2"]  # x=1&x=2: a list where the handler expects one value
# A few values per field, so the whole fuzz stays well under a minute: "²" passes isdigit() and breaks int(),
# "１" and "٣" are read by int() as numbers; 10**30 and 2**63 overflow PostgreSQL's bigint.
NUMBERS = ["²", "１", str(10**30), str(2**63), "-1", "abc", REPEATED]
TEXTS = ["", "x" * 20_000, REPEATED]
QUERY_VALUES = ["²", "٣", str(10**30), str(2**63), "-1", "abc", "", "x" * 2_000]
ONE_AT_A_TIME = ["²", str(2**63), "abc"]
OTHER_ROLES = ["１", str(10**30)]


def is_numeric(name: str, value: str, kind: str, options: list[str]) -> bool:
    return (kind == "number" or name in INTEGER_FIELDS or name.endswith("_id") or value.strip().isdigit()
            or any(o.isdigit() for o in options))


def values_for_field(name: str, value: str, kind: str, options: list[str]) -> list:
    return NUMBERS if is_numeric(name, value, kind, options) else TEXTS


async def test_no_query_parameter_value_answers_5xx(secured):
    world, db, found = secured.world, secured.db, secured.found
    every = sorted(set(QUERY_NAMES) | query_names() | {n for names in found.queries.values() for n in names})
    failures = []
    sent = 0
    for endpoint in secured.endpoints:
        if endpoint.method != "GET":
            continue
        path = concrete(endpoint, world.ids)
        # Its own names one at a time; all known names together.
        own = sorted(found.queries.get(endpoint, set()))
        trials = {"admin": [{name: value for name in every} for value in QUERY_VALUES]
                  + [{name: value} for name in own for value in ONE_AT_A_TIME],
                  "resident": [{name: value for name in every} for value in OTHER_ROLES],
                  "anonymous": [{name: value for name in every} for value in OTHER_ROLES]}
        for role, role_trials in trials.items():
            client = world.clients[role]
            for params in role_trials:
                response = await isolated(db, client, client.get(path, params=params))
                sent += 1
                if response.status_code >= 500:
                    failures.append((endpoint.path, role, {k: v[:20] for k, v in params.items()},
                                     response.status_code))
    assert not failures, failures[:20]
    assert sent > 500 and len(every) >= len(QUERY_NAMES)


async def test_no_form_field_value_answers_5xx(secured):
    world, db, found = secured.world, secured.db, secured.found
    failures = []
    sent = 0
    fuzzed_fields = 0
    for endpoint, forms in found.forms.items():
        path = concrete(endpoint, world.ids)
        seen: set[str] = set()
        for form in forms:
            base = {k: v for k, v in form.fields.items() if k != "csrf_token"}
            for name, value in form.fields.items():
                if name == "csrf_token" or name in seen:
                    continue
                seen.add(name)
                fuzzed_fields += 1
                for odd in values_for_field(name, value, form.kinds.get(name, ""), form.options.get(name, [])):
                    client = form.client
                    data = {**base, name: odd}
                    response = await isolated(db, client, client.post_form(path, data))
                    sent += 1
                    if response.status_code >= 500:
                        failures.append((endpoint.path, name, str(odd)[:20], response.status_code))
    assert not failures, failures[:20]
    assert fuzzed_fields > 80 and sent > 400
