"""F8: wrong passwords cannot lock a member out. An account's failures bring an escalating delay for clients that
have failed, and a per-client limit; the right password from a client that never failed still signs in.

Info: the per-client limit counts the peer's address; X-Forwarded-For is believed only from the proxies
FORWARDED_ALLOW_IPS names (none by default), loopback included."""

from __future__ import annotations

import httpx
import uvicorn
from sqlalchemy import select, text

from community.cli import server_options
from community.platform.accounts.actions import ACCOUNT_DELAY_CAP, account_delay
from community.platform.mail.models import OutboxMessage
from community.settings import Settings
from tests.conftest import PASSWORD, Client


def _client_at(app, address: str) -> Client:
    return Client(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver")


async def _sign_in(client, email, password):
    return await client.post_form("/signin", {"email": email, "password": password})


async def test_wrong_passwords_from_elsewhere_do_not_keep_the_member_out(app, member_factory, settings):
    victim = await member_factory("resident")
    async with _client_at(app, "10.0.0.66") as attacker, _client_at(app, "10.0.0.7") as own:
        statuses = [(await _sign_in(attacker, victim.email, "a wrong guess again")).status_code
                    for _ in range(settings.login_max_failures + 3)]
        assert statuses[:settings.login_max_failures] == [400] * settings.login_max_failures
        assert 429 in statuses  # the failing client is slowed down...
        refused = await _sign_in(attacker, victim.email, PASSWORD)
        assert refused.status_code == 429 and "seconds" in refused.text  # ...even with the right password
        assert int(refused.headers["retry-after"]) <= ACCOUNT_DELAY_CAP
        # ...but the member's own browser, which never failed, signs in.
        assert (await _sign_in(own, victim.email, PASSWORD)).status_code == 303
        # Their sign-in forgives only their own failures: the guessing client is still slowed down.
        assert (await _sign_in(attacker, victim.email, PASSWORD)).status_code == 429


def test_the_account_delay_escalates_and_is_capped():
    assert [account_delay(n, 5) for n in range(4, 10)] == [0, 2, 4, 8, 16, 32]
    assert account_delay(10, 5) == account_delay(10_000, 5) == ACCOUNT_DELAY_CAP


async def _peer_seen(options: dict, peer: str, forwarded: str) -> str:
    """The client address the app sees through uvicorn's own wiring of these server options."""
    seen: list[str] = []

    async def echo(scope, receive, send):
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(echo, **{**options, "lifespan": "off"})
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get("/", headers={"x-forwarded-for": forwarded})
    return seen[0]


async def test_x_forwarded_for_is_believed_only_from_named_proxies(tmp_path):
    no_dotenv = tmp_path / ".env"
    default = server_options(Settings.from_env({}, dotenv=no_dotenv))
    assert await _peer_seen(default, "127.0.0.1", "203.0.113.9") == "127.0.0.1"
    named = server_options(Settings.from_env({"FORWARDED_ALLOW_IPS": "10.1.1.1"}, dotenv=no_dotenv))
    assert await _peer_seen(named, "127.0.0.1", "203.0.113.9") == "127.0.0.1"
    assert await _peer_seen(named, "10.1.1.1", "203.0.113.9") == "203.0.113.9"


async def _alert_mails(db, email: str) -> list:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "signin_failures",
                                                                       OutboxMessage.to_addr == email)))


async def _time_passes(db, minutes: int) -> None:
    """As if `minutes` went by: every failure, and the mark of the last alert, moves that far into the past."""
    async with db.transaction() as session:
        await session.execute(text("UPDATE login_attempts SET at = at - make_interval(mins => :m)"), {"m": minutes})
        await session.execute(text("UPDATE users SET signin_alert_at = signin_alert_at - make_interval(mins => :m) "
                                   "WHERE signin_alert_at IS NOT NULL"), {"m": minutes})


async def test_the_member_is_mailed_once_per_burst_of_wrong_passwords(app, db, member_factory, settings):
    victim = await member_factory("resident")
    async with _client_at(app, "10.0.0.66") as one, _client_at(app, "10.0.0.67") as two:
        for _ in range(settings.login_max_failures - 1):
            await _sign_in(one, victim.email, "a wrong guess again")
        assert await _alert_mails(db, victim.email) == []  # a few typos mail no one
        for client in (one, two, two, two, two, two):
            await _sign_in(client, victim.email, "a wrong guess again")
        (mail,) = await _alert_mails(db, victim.email)  # one mail for the whole burst, from every client
        assert "not locked" in mail.text_body and "/account/password" in mail.text_body
        assert "10.0.0." not in mail.text_body + mail.html_body  # no client address in it
        await _time_passes(db, settings.login_window_minutes // 2)  # the burst goes on, slower
        for _ in range(2):
            await _sign_in(two, victim.email, "a wrong guess again")
        assert len(await _alert_mails(db, victim.email)) == 1
        await _time_passes(db, settings.login_window_minutes + 1)  # quiet for a whole window: that burst ended
        async with _client_at(app, "10.0.0.68") as three:
            for _ in range(settings.login_max_failures):
                await _sign_in(three, victim.email, "a wrong guess again")
        assert len(await _alert_mails(db, victim.email)) == 2


async def test_failures_on_an_address_without_an_account_mail_nobody(app, db, settings):
    async with _client_at(app, "10.0.0.70") as client:
        for _ in range(settings.login_max_failures + 1):
            assert (await _sign_in(client, "nobody.here@example.org", "a wrong guess")).status_code in (400, 429)
    assert await _alert_mails(db, "nobody.here@example.org") == []
