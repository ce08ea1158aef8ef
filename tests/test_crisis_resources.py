"""CRISIS_RESOURCES: parsed strictly at start-up (a bad value stops the server with a clear message, never a 500
later), and the configured list replaces the defaults on /resources and in the composers' crisis panels."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from community.app import create_app
from community.settings import DEFAULT_RESOURCES, ROOT, Settings, SettingsError, _parse_resources
from tests.conftest import Client, sign_in

UK = ("Samaritans|Call 116 123, free, day or night.|tel:116123;"
      "NHS 111|Choose the mental health option.|https://111.nhs.uk/;"
      "Shout|Text SHOUT to 85258.|sms:85258")
UK_PARSED = (("Samaritans", "Call 116 123, free, day or night.", "tel:116123"),
             ("NHS 111", "Choose the mental health option.", "https://111.nhs.uk/"),
             ("Shout", "Text SHOUT to 85258.", "sms:85258"))
CRISIS = "I want to kill myself tonight. The night shift broke something."


# ---- parsing -------------------------------------------------------------------------------------------------

def test_parses_a_good_value():
    assert _parse_resources(UK) == UK_PARSED
    # Spaces around parts, a trailing ";", an empty link and mailto: are all fine.
    assert _parse_resources("  Peer line | Talk to a colleague. |  ;Email us|Write any time.|mailto:help@example.org;") \
        == (("Peer line", "Talk to a colleague.", ""), ("Email us", "Write any time.", "mailto:help@example.org"))


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_blank_gives_the_documented_defaults(value):
    assert _parse_resources(value) == DEFAULT_RESOURCES


@pytest.mark.parametrize(("value", "message"), [
    ("Samaritans|Call 116 123", "entry 1 ('Samaritans|Call 116 123') must be 'Name|description|link'"),
    ("Samaritans|Call|tel:116123|extra", "entry 1"),
    ("Samaritans|Call 116 123.|tel:116123;Shout, text 85258", "entry 2 ('Shout, text 85258')"),
    ("|No name here.|tel:1", "needs a name and a description"),
    ("Samaritans||tel:116123", "needs a name and a description"),
    ("Bad|Click me.|javascript:alert(1)", "use tel:, sms:, https://, http:// or mailto:"),
    ("Bad|Call.|tel:116 123", "without spaces or quotes"),
    ('Bad|Call.|https://x.example/"onmouseover="x', "without spaces or quotes"),
    ("Bad|Call\x07 now.|tel:1", "control characters"),
    (";;", "has no entries"),
])
def test_a_malformed_value_is_a_clear_settings_error(value, message):
    with pytest.raises(SettingsError) as raised:
        _parse_resources(value)
    assert "CRISIS_RESOURCES" in str(raised.value) and message in str(raised.value)


def test_from_env_reads_it_and_refuses_a_malformed_value(tmp_path):
    env = {"VAR_DIR": str(tmp_path), "CRISIS_RESOURCES": UK}
    assert Settings.from_env(env, dotenv=tmp_path / "none.env").crisis_resources == UK_PARSED
    with pytest.raises(SettingsError, match="CRISIS_RESOURCES entry 1"):
        Settings.from_env({**env, "CRISIS_RESOURCES": "Samaritans only"}, dotenv=tmp_path / "none.env")


def test_the_server_does_not_start_with_a_malformed_value(tmp_path):
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "CRISIS_RESOURCES": "Samaritans|Call 116 123.|tel:116123;Shout 85258"}
    done = subprocess.run([sys.executable, "-m", "community.cli", "serve", "--no-bootstrap"], env=env,
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "configuration error: CRISIS_RESOURCES entry 2 ('Shout 85258')" in done.stderr
    assert "Serving on" not in done.stdout


# ---- pages ---------------------------------------------------------------------------------------------------

@pytest.fixture
async def uk_client(settings, db):
    app = create_app(settings.with_(crisis_resources=_parse_resources(UK)), db=db)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def _shows_uk_not_defaults(html: str) -> None:
    for name, description, _link in UK_PARSED:
        assert name in html and description in html
    for name, _description, _link in DEFAULT_RESOURCES:
        assert name not in html


async def test_resources_page_shows_the_configured_list(uk_client):
    page = await uk_client.get("/resources")
    assert page.status_code == 200
    _shows_uk_not_defaults(page.text)
    assert 'href="tel:116123"' in page.text and 'href="https://111.nhs.uk/"' in page.text
    _shows_uk_not_defaults((await uk_client.get("/guidelines")).text)


async def test_the_composers_crisis_panels_show_the_configured_list(uk_client, member_factory, db):
    await sign_in(uk_client, db, await member_factory())
    # The panel composer.js clones while someone types (every page carries its template).
    composer = await uk_client.get("/reflections/new")
    assert composer.status_code == 200
    template = composer.text[composer.text.index('id="crisis-resources-template"'):]
    _shows_uk_not_defaults(template[:template.index("</template>")])
    # The panel shown after writing crisis words.
    response = await uk_client.post_form("/reflections/new", {"body": CRISIS, "visibility": "private",
                                                             "intent": "publish"})
    assert response.status_code == 303 and "support=1" in response.headers["location"]
    page = await uk_client.get(response.headers["location"])
    panel = page.text[page.text.index('class="crisis-panel"'):]
    panel = panel[:panel.index("</aside>")]
    _shows_uk_not_defaults(panel)
    assert '<a href="tel:116123">Samaritans</a>' in panel
