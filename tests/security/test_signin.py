"""F3: sign-in verifies a password hash whether or not the email is registered (a dummy one for an unknown email),
so its timing does not tell who is a member. Counted, not timed: the hasher records every hash it verifies."""

from __future__ import annotations

from tests.conftest import PASSWORD


class CountingHasher:
    """Wraps the app's real argon2 hasher and records the hashes it is asked to verify."""

    def __init__(self, hasher) -> None:
        self.hasher = hasher
        self.verified: list[str] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return self.hasher.verify(stored, password)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


async def _sign_in(client, email, password):
    return await client.post_form("/signin", {"email": email, "password": password})


async def test_an_unknown_email_is_verified_against_the_dummy_hash(app, client, member_factory):
    passwords = app.state.passwords
    counting = CountingHasher(passwords._hasher)
    passwords._hasher = counting
    member = await member_factory("resident")

    assert (await _sign_in(client, "nobody-here@example.org", PASSWORD)).status_code == 400
    assert counting.verified == [passwords._dummy]
    assert (await _sign_in(client, member.email, "not the password at all")).status_code == 400
    assert counting.verified == [passwords._dummy, member.password_hash]
    assert (await _sign_in(client, member.email, PASSWORD)).status_code == 303
    assert len(counting.verified) == 3
