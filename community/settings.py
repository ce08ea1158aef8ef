"""Settings read from the environment (and an optional .env), built once and passed in."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_RESOURCES = (
    ("988 Suicide & Crisis Lifeline", "Call or text 988 (United States), any time.", "tel:988"),
    ("Physician Support Line", "Call 1-888-409-0141: free, confidential peer support by volunteer psychiatrists.",
     "tel:18884090141"),
    ("Crisis Text Line", "Text HOME to 741741 to reach a trained crisis counselor.", "sms:741741"),
)


class SettingsError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parses KEY=VALUE lines; the environment always wins over the file."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _bool(value: str | None, default: bool, key: str = "") -> bool:
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{key or 'a setting'} must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")


def _int(env: dict[str, str], key: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
    value = env.get(key)
    if value is None or value.strip() == "":
        return default
    raw = value.strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", raw):
        raise SettingsError(f"{key} must be a whole number, not {value!r}")
    number = int(raw)
    if low is not None and number < low:
        raise SettingsError(f"{key} must be at least {low}, not {number}")
    if high is not None and number > high:
        raise SettingsError(f"{key} must be at most {high}, not {number}")
    return number


def _seconds(env: dict[str, str], key: str, default: float) -> float:
    """A positive number of seconds, such as 20 or 0.5."""
    value = env.get(key)
    if value is None or value.strip() == "":
        return default
    raw = value.strip()
    if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,6})?", raw) or float(raw) <= 0:
        raise SettingsError(f"{key} must be a positive number of seconds, not {value!r}")
    return float(raw)


RESOURCE_LINK_SCHEMES = ("tel:", "sms:", "https://", "http://", "mailto:")


def _parse_resources(value: str | None) -> tuple[tuple[str, str, str], ...]:
    """CRISIS_RESOURCES is 'Name|description|link;Name|description|link'; the link may be empty, else it starts
    with tel:, sms:, https://, http:// or mailto:. Unset or blank gives the defaults (United States). Anything else
    that cannot be read stops start-up with a SettingsError that says what is wrong: a deployment must never quietly
    show people in crisis another country's lines, or fail later while showing them."""
    if value is None or not value.strip():
        return DEFAULT_RESOURCES
    items = []
    for number, chunk in enumerate(value.split(";"), 1):
        if not chunk.strip():
            continue  # an empty entry, as after a trailing ";"
        where = f"CRISIS_RESOURCES entry {number} ({chunk.strip()!r})"
        parts = [p.strip() for p in chunk.split("|")]
        if len(parts) != 3:
            raise SettingsError(f"{where} must be 'Name|description|link': three parts separated by '|' "
                                "(the link may be empty); entries are separated by ';'")
        name, description, link = parts
        if not name or not description:
            raise SettingsError(f"{where} needs a name and a description")
        if any(not ch.isprintable() for ch in name + description + link):
            raise SettingsError(f"{where} contains control characters")
        if link and (not link.lower().startswith(RESOURCE_LINK_SCHEMES)
                     or any(ch.isspace() or ch in "\"'<>`" for ch in link)):
            raise SettingsError(f"{where} has the link {link!r}: use tel:, sms:, https://, http:// or mailto:, "
                                "without spaces or quotes, or leave it empty")
        items.append((name, description, link))
    if not items:
        raise SettingsError("CRISIS_RESOURCES has no entries: use 'Name|description|link;...', or unset it for "
                            "the default (United States) resources")
    return tuple(items)


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from outside; created by `from_env` or directly in tests."""

    database_url: str | None = None
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    production: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = ROOT / "var"
    # Sealing key for anonymous authorship; never stored in the database.
    anon_key: str = ""
    session_days: int = 30
    # Moderators' and admins' sessions (ASVS L2 3.3.2): at most this long, and ended after this long idle.
    staff_session_hours: int = 12
    staff_idle_minutes: int = 30
    invite_days: int = 7
    max_body_bytes: int = 1024 * 1024
    login_max_failures: int = 5
    login_window_minutes: int = 15
    flag_hide_threshold: int = 3
    new_member_approval_posts: int = 0
    posts_per_minute: int = 6
    # Private journal entries: only an abuse ceiling, far above anyone writing for themselves.
    journal_entries_per_minute: int = 60
    # The composer's @ autocomplete (/members/suggest): lookups per member per minute.
    member_suggest_per_minute: int = 60
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    log_json: bool = True
    # Each process keeps signed-in members' snapshots, invalidated by PostgreSQL (web.viewer_cache).
    viewer_cache: bool = True
    crisis_resources: tuple[tuple[str, str, str], ...] = DEFAULT_RESOURCES
    # Live rooms: a socket that says nothing this long is closed; a send that waits this long drops the socket;
    # each socket's queue holds this many frames; retention runs this often.
    rooms_idle_seconds: float = 300.0
    rooms_send_timeout: float = 20.0
    # An open socket checks its member's sign-in this often (and before each action): signed out, revoked,
    # suspended or idle past the staff limit closes it.
    rooms_session_check_seconds: float = 60.0
    rooms_queue_size: int = 256
    rooms_purge_seconds: float = 60.0
    room_messages_per_minute: int = 30  # per participant; slow mode applies on top
    # Unmasking and admins' actions on admins: how long each of the two admins must have held the role.
    two_admin_min_days: int = 14
    # Urgent review items: an unclaimed one escalates from whoever is on call to every moderator and admin after
    # this many minutes; each process checks for escalations (and refreshes the navigation's count) this often.
    urgent_escalation_minutes: int = 15
    urgent_check_seconds: float = 10.0
    # A presence row counts this long unless its process renews it (every third of it); expired rows are deleted
    # and their rooms told, so a crashed process's members leave every list within about this long.
    rooms_presence_lease_seconds: float = 20.0
    # `community serve`: proxies trusted for X-Forwarded-*, and the first admin's address.
    forwarded_allow_ips: str = ""  # none: X-Forwarded-* is ignored unless the proxy is named
    admin_email: str = "admin@community.local"
    # Mail (community.platform.mail): where the outbox sends, and as whom. With no SMTP_URL outside production,
    # `community serve` runs a local catcher on MAIL_CATCHER_PORT that keeps each message under var/mail/.
    smtp_url: str = ""
    mail_from: str = "Compassionate Practice <community@localhost>"
    mail_catcher_port: int = 8025
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 30.0
    # Password reset by mail: requests per address per hour (per client: 4x as many).
    reset_max_per_hour: int = 3
    # /metrics (platform.metrics): a bearer token, and/or networks allowed without one. Neither set: 404.
    metrics_token: str = ""
    metrics_networks: tuple[str, ...] = ()
    # Where the workers of `community serve --workers N` keep their metric files (prometheus_client's
    # multiprocess mode); empty in a single process. `serve` sets it under VAR_DIR when it starts workers.
    prometheus_multiproc_dir: str = ""

    @property
    def mail_catcher(self) -> bool:
        """True when mail goes to the embedded catcher (development without SMTP_URL)."""
        return not self.smtp_url and not self.production

    @property
    def smtp_target(self) -> str:
        """The SMTP_URL the sender uses: the setting, or the embedded catcher's address."""
        return self.smtp_url or f"smtp://127.0.0.1:{self.mail_catcher_port}"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        """Scheme://host[:port] of BASE_URL, for Origin checks."""
        scheme, _, rest = self.base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, dotenv: Path | None = None) -> Settings:
        """Every setting, read once. Long because it lists each setting on its own line."""
        env = dict(_read_dotenv(dotenv if dotenv is not None else ROOT / ".env"))
        env.update(environ if environ is not None else os.environ)
        production = _bool(env.get("PRODUCTION"), False, "PRODUCTION") or env.get("APP_ENV", "").lower() == "production"
        var_dir = Path(env.get("VAR_DIR") or ROOT / "var")
        secret, anon_key = _keys(env, production, var_dir)
        host = env.get("HOST", "127.0.0.1")
        port = _int(env, "PORT", 8000, low=1, high=65535)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            secret_key=secret,
            base_url=(env.get("BASE_URL") or f"http://{host}:{port}").rstrip("/"),
            production=production,
            host=host,
            port=port,
            var_dir=var_dir,
            anon_key=anon_key,
            session_days=_int(env, "SESSION_DAYS", 30, low=1),
            invite_days=_int(env, "INVITE_DAYS", 7, low=1),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, low=1024),
            login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5, low=1),
            login_window_minutes=_int(env, "LOGIN_WINDOW_MINUTES", 15, low=1),
            flag_hide_threshold=_int(env, "FLAG_HIDE_THRESHOLD", 3, low=1),
            new_member_approval_posts=_int(env, "NEW_MEMBER_APPROVAL_POSTS", 0, low=0),
            posts_per_minute=_int(env, "POSTS_PER_MINUTE", 6, low=1),
            journal_entries_per_minute=_int(env, "JOURNAL_ENTRIES_PER_MINUTE", 60, low=1),
            member_suggest_per_minute=_int(env, "MEMBER_SUGGEST_PER_MINUTE", 60, low=1),
            log_json=_bool(env.get("LOG_JSON"), True, "LOG_JSON"),
            viewer_cache=_bool(env.get("VIEWER_CACHE"), True, "VIEWER_CACHE"),
            crisis_resources=_parse_resources(env.get("CRISIS_RESOURCES")),
            rooms_idle_seconds=_seconds(env, "ROOMS_IDLE_SECONDS", 300.0),
            rooms_send_timeout=_seconds(env, "ROOMS_SEND_TIMEOUT", 20.0),
            rooms_session_check_seconds=_seconds(env, "ROOMS_SESSION_CHECK_SECONDS", 60.0),
            rooms_queue_size=_int(env, "ROOMS_QUEUE_SIZE", 256, low=1),
            rooms_purge_seconds=_seconds(env, "ROOMS_PURGE_SECONDS", 60.0),
            room_messages_per_minute=_int(env, "ROOM_MESSAGES_PER_MINUTE", 30, low=0),
            two_admin_min_days=_int(env, "TWO_ADMIN_MIN_DAYS", 14, low=0),
            urgent_escalation_minutes=_int(env, "URGENT_ESCALATION_MINUTES", 15, low=1),
            urgent_check_seconds=_seconds(env, "URGENT_CHECK_SECONDS", 10.0),
            rooms_presence_lease_seconds=_seconds(env, "ROOMS_PRESENCE_LEASE_SECONDS", 20.0),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS", "").strip(),
            admin_email=env.get("ADMIN_EMAIL", "admin@community.local").strip() or "admin@community.local",
            **_mail_settings(env),
            **_session_and_metrics_settings(env),
        )


def _keys(env: dict[str, str], production: bool, var_dir: Path) -> tuple[str, str]:
    """SECRET_KEY and ANON_KEY: required in production (with DATABASE_URL and mail), generated into var/ in
    development."""
    secret = env.get("SECRET_KEY", "")
    anon_key = env.get("ANON_KEY", "")
    if production:
        _require_production(env, secret, anon_key)
        return secret, anon_key
    return secret or _dev_secret(var_dir, "secret_key"), anon_key or _dev_secret(var_dir, "anon_key")


def _mail_settings(env: dict[str, str]) -> dict[str, object]:
    """Where mail goes, as whom, how hard the sender tries, and the password-reset limit."""
    return {"smtp_url": _smtp_url(env.get("SMTP_URL")), "mail_from": _mail_from(env.get("MAIL_FROM")),
            "mail_catcher_port": _int(env, "MAIL_CATCHER_PORT", 8025, low=1, high=65535),
            "mail_max_attempts": _int(env, "MAIL_MAX_ATTEMPTS", 8, low=1),
            "mail_retry_seconds": _seconds(env, "MAIL_RETRY_SECONDS", 30.0),
            "reset_max_per_hour": _int(env, "RESET_MAX_PER_HOUR", 3, low=1)}


def _session_and_metrics_settings(env: dict[str, str]) -> dict[str, object]:
    """Staff session limits, and who may read /metrics."""
    token = env.get("METRICS_TOKEN", "").strip()
    if token and (len(token) < 16 or any(ch.isspace() or not ch.isprintable() for ch in token)):
        raise SettingsError("METRICS_TOKEN must be at least 16 printable characters without spaces (or unset)")
    return {"staff_session_hours": _int(env, "STAFF_SESSION_HOURS", 12, low=1),
            "staff_idle_minutes": _int(env, "STAFF_IDLE_MINUTES", 30, low=1),
            "metrics_token": token, "metrics_networks": _networks(env.get("METRICS_NETWORKS")),
            "prometheus_multiproc_dir": env.get("PROMETHEUS_MULTIPROC_DIR", "").strip()}


def _networks(value: str | None) -> tuple[str, ...]:
    """METRICS_NETWORKS: comma-separated addresses or CIDR networks, such as 10.0.0.0/8,127.0.0.1."""
    items = tuple(part.strip() for part in (value or "").split(",") if part.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(f"METRICS_NETWORKS has {item!r}, which is not an address or a network such as "
                                "10.0.0.0/8") from None
    return items


SMTP_SCHEMES = ("smtp://", "smtp+starttls://", "smtps://")


def _smtp_url(value: str | None) -> str:
    """SMTP_URL: smtp:// (no TLS: a local relay), smtp+starttls:// (STARTTLS required) or smtps:// (TLS from the
    first byte); user and password in the URL, percent-encoded. Anything else stops start-up."""
    raw = (value or "").strip()
    if not raw:
        return ""
    where = raw.rsplit("@", 1)[-1]  # never the password in a message
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if not raw.lower().startswith(SMTP_SCHEMES) or not port_ok or not parts.hostname:
        raise SettingsError(f"SMTP_URL must start with smtp://, smtp+starttls:// or smtps:// and name a host "
                            f"(and a port from 1 to 65535, if any), not {where!r}")
    return raw


def _mail_from(value: str | None) -> str:
    """MAIL_FROM: an address, or 'Name <address>'."""
    raw = (value or "").strip()
    if not raw:
        return Settings.mail_from
    address = raw.rsplit("<", 1)[-1].rstrip(">").strip()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address) or any(not ch.isprintable() for ch in raw):
        raise SettingsError(f"MAIL_FROM must be an address or 'Name <address>', not {raw!r}")
    return raw


def _require_production(env: dict[str, str], secret: str, anon_key: str) -> None:
    """Production refuses to start without its secrets, a real database and a real mail server."""
    if len(secret) < 32:
        raise SettingsError("SECRET_KEY must be set (at least 32 characters) in production")
    if len(anon_key) < 32:
        raise SettingsError("ANON_KEY must be set (at least 32 characters) in production")
    if not env.get("DATABASE_URL"):
        raise SettingsError("DATABASE_URL must be set in production")
    if not env.get("SMTP_URL", "").strip():
        raise SettingsError("SMTP_URL must be set in production (smtp://, smtp+starttls:// or smtps://)")
    if not env.get("MAIL_FROM", "").strip():
        raise SettingsError("MAIL_FROM must be set in production, e.g. 'Community <community@example.org>'")


def _dev_secret(var_dir: Path, name: str) -> str:
    """Development only: a random key generated once into var/ and reused after."""
    path = var_dir / name
    if path.is_file():
        value = path.read_text().strip()
        if value:
            return value
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
