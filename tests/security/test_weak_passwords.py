"""Info item: `qwertyuiopas` and `correcthorse` were accepted. The weak-password check (no network) refuses keyboard
and alphabet walks and common phrases, also in parts and with look-alike digits, and still takes passphrases."""

from __future__ import annotations

import pytest

from community.platform.accounts.security import is_breached, is_common, is_walk, password_problem
from tests.accounts.test_invitations import make_invitation, signup_form

WEAK = ("qwertyuiopas", "correcthorse", "C0rrect H0rse!", "Correct horse battery", "asdfghjklzxc", "1qaz2wsx3edc4rfv",
        "zxcvbnmasdfg", "poiuytrewqlk", "qwertzuiopas", "mnbvcxzlkjhg", "abcdefghijklm", "the quick brown fox",
        "may the force be")
STRONG = ("a calm and long test password", "my cat eats paper boats", "kx8#mQ2v!pLw", "Tr0ub4dor&3xyz",
          "ward rounds at dawn again")


@pytest.mark.parametrize("password", WEAK)
def test_walks_and_common_phrases_are_refused(password):
    assert password_problem(password) is not None


@pytest.mark.parametrize("password", STRONG)
def test_passphrases_and_random_passwords_are_accepted(password):
    assert password_problem(password) is None


async def test_sign_up_refuses_a_keyboard_walk_and_keeps_the_draft(client, db):
    _, token = await make_invitation(db)
    for password in ("qwertyuiopas", "correcthorse"):
        response = await client.post_form(f"/join/{token}", signup_form(password=password))
        assert response.status_code == 400 and "Please choose another" in response.text
        assert "dana@example.org" in response.text


# Leaked passwords that neither our own list nor the walk check knows: only the bundled breach list refuses them.
BREACHED = ("basketball12", "manchesterunited", "jesusislord7", "chocolate123", "superman2000", "Greenday1234",
            "Blink182blink")


@pytest.mark.parametrize("password", BREACHED)
def test_passwords_from_breach_lists_are_refused(password):
    assert not is_common(password) and not is_walk(password)
    assert is_breached(password)
    assert "leaked" in (password_problem(password) or "")


def test_the_breach_list_is_searched_as_typed_and_lowercased():
    assert is_breached("ChOcOlAtE123")
    assert not is_breached("ward rounds at dawn again")


async def test_sign_up_refuses_a_breached_password_with_a_clear_message(client, db):
    _, token = await make_invitation(db)
    response = await client.post_form(f"/join/{token}", signup_form(password="manchesterunited"))
    assert response.status_code == 400 and "leaked from other sites" in response.text
