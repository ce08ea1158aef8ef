"""Settings: every variable is read once, strictly, and listed in the README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from community.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent


def variables_read() -> set[str]:
    """Every environment variable settings.py reads (env.get("X") and the typed readers' keys)."""
    source = (ROOT / "community" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.get)?\(\s*"([A-Z_]+)"', source)) | set(re.findall(r'env, "([A-Z_]+)"', source))


def test_no_setting_is_read_outside_settings():
    offenders = []
    for path in (ROOT / "community").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"os\.environ\.get|os\.getenv|environ\[\s*\"[A-Z]", line) and "DATABASE_URL\"] =" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_the_readme_lists_every_setting():
    table = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    read = variables_read()
    assert {"ROOMS_QUEUE_SIZE", "ANON_KEY", "MAX_BODY_BYTES"} <= read
    assert read - listed == set()


def test_rooms_settings_are_read():
    settings = Settings.from_env({"ROOMS_IDLE_SECONDS": "45", "ROOMS_SEND_TIMEOUT": "2.5", "ROOMS_QUEUE_SIZE": "16",
                                  "ROOMS_PURGE_SECONDS": "5", "ADMIN_EMAIL": "lead@example.org",
                                  "FORWARDED_ALLOW_IPS": "10.0.0.1"}, dotenv=Path("/nonexistent"))
    assert (settings.rooms_idle_seconds, settings.rooms_send_timeout, settings.rooms_queue_size,
            settings.rooms_purge_seconds) == (45.0, 2.5, 16, 5.0)
    assert settings.admin_email == "lead@example.org" and settings.forwarded_allow_ips == "10.0.0.1"
    defaults = Settings.from_env({}, dotenv=Path("/nonexistent"))
    assert (defaults.rooms_idle_seconds, defaults.rooms_queue_size) == (300.0, 256)


@pytest.mark.parametrize(("name", "value"), [
    ("ROOMS_QUEUE_SIZE", "abc"), ("ROOMS_QUEUE_SIZE", "0"), ("ROOMS_QUEUE_SIZE", "٣"), ("ROOMS_IDLE_SECONDS", "-1"),
    ("ROOMS_SEND_TIMEOUT", "soon"), ("ROOMS_PURGE_SECONDS", "0"), ("PORT", "80a"), ("SESSION_DAYS", "²"),
    ("VIEWER_CACHE", "maybe"), ("LOG_JSON", "yes please"), ("PRODUCTION", "perhaps"),
    ("PORT", "0"), ("PORT", "70000"), ("SESSION_DAYS", "0"), ("INVITE_DAYS", "-3"), ("MAX_BODY_BYTES", "10"),
    ("LOGIN_MAX_FAILURES", "0"), ("FLAG_HIDE_THRESHOLD", "0"), ("POSTS_PER_MINUTE", "-1"),
    ("NEW_MEMBER_APPROVAL_POSTS", "-1"), ("MAIL_CATCHER_PORT", "65536"),
])
def test_a_value_that_cannot_be_read_stops_start_up(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value}, dotenv=Path("/nonexistent"))
