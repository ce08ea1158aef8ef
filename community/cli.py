"""The `community` command: serve, mailer, migrate, seed, create-admin, invite, reset-link, reset-factors,
housekeeping, and anonymity rekey."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import func, select

from community import seed
from community.app import PILLARS
from community.platform import housekeeping
from community.platform.accounts import actions as accounts
from community.platform.accounts import factors, rekey, scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.db import Database, ensure_database, start_embedded, with_database
from community.platform.logs import configure_logging
from community.platform.mail import digests
from community.platform.mail.catcher import Catcher
from community.platform.mail.outbox import Outbox
from community.platform.mail.sender import Sender
from community.platform.metrics import prepare_directory
from community.platform.migrate import upgrade_blocking
from community.platform.safety import distill as safety_distill
from community.platform.safety import train as safety_train
from community.settings import Settings, SettingsError


def _database_url(settings: Settings, *, start: bool = True) -> str:
    """DATABASE_URL when set (production); otherwise the embedded server under var/pgdata."""
    if settings.database_url:
        return settings.database_url
    if not start:
        raise SystemExit("DATABASE_URL is not set and the embedded database was not started.")

    url = with_database(start_embedded(settings.var_dir), "community")
    asyncio.run(ensure_database(url))
    # Child processes (uvicorn workers) inherit the URL, and share this one server.
    os.environ["DATABASE_URL"] = url
    return url


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"configuration error: {exc}") from None


def _with_session(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        db = Database(url, pool_size=2)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(main())


def cmd_migrate(args: argparse.Namespace) -> None:
    url = _database_url(_settings())
    upgrade_blocking(url)
    print("migrations: database is at the newest revision")


def cmd_seed(args: argparse.Namespace) -> None:
    url = _database_url(_settings())
    counts = _with_session(url, seed.run)
    print("seed: " + (", ".join(f"{k} +{v}" for k, v in counts.items()) or "nothing to add"))


def _admin_link(settings: Settings, url: str, email: str, name: str, *, always: bool) -> None:
    async def work(session: Any) -> str | None:
        user, created = await accounts.ensure_admin(session, email=email, display_name=name)
        if created or always or user.password_hash is None:
            return await accounts.create_link(session, None, user.id, "setup", hours=72)
        return None

    token = _with_session(url, work)
    if token:
        print(f"\n  First sign-in for the admin ({email}; one-time link, valid 72 hours):\n"
              f"  {settings.base_url}/link/{token}\n", flush=True)


def cmd_create_admin(args: argparse.Namespace) -> None:
    settings = _settings()
    url = _database_url(settings)
    if args.email:
        async def work(session: Any) -> str:
            user = (await session.scalars(select(User).where(func.lower(User.email) == args.email.lower()))).first()
            if user is None:
                user = User(email=accounts.check_email(args.email),
                            display_name=accounts.check_display_name(args.name), role="admin",
                            handle=await accounts._unique_handle(session, args.name),
                            guidelines_accepted_at=accounts.now())
                session.add(user)
                await session.flush()
            else:
                user.role = "admin"
            return await accounts.create_link(session, None, user.id, "setup", hours=72)

        token = _with_session(url, work)
        _print_link(settings, f"Admin ready. One-time sign-in link (72 hours):\n{settings.base_url}/link/{token}")
    else:
        _admin_link(settings, url, settings.admin_email, "Admin", always=True)


def cmd_invite(args: argparse.Namespace) -> None:
    settings = _settings()
    url = _database_url(settings)

    async def work(session: Any) -> str:
        _, token = await accounts.create_invitation(session, None, role=args.role, cohort=args.cohort or "",
                                                    note=args.note or "", days=args.days)
        return token

    token = _with_session(url, work)
    _print_link(settings, f"Invitation for a {args.role} (valid {args.days} days, single use):\n"
                          f"{settings.base_url}/join/{token}")


def cmd_reset_factors(args: argparse.Namespace) -> None:
    url = _database_url(_settings())

    async def work(session: Any) -> int:
        user = (await session.scalars(select(User).where(func.lower(User.email) == args.email.lower()))).first()
        if user is None:
            raise SystemExit(f"No member with email {args.email}")
        return await factors.reset_all(session, user)

    removed = _with_session(url, work)
    print(f"reset-factors: {removed} second factor(s) removed for {args.email}; their sessions are ended.")


def _factors_parser(sub: Any) -> None:
    factors_reset = sub.add_parser("reset-factors", help="remove a member's second factors and recovery codes",
                                   description="For a member who lost every second factor and recovery code: "
                                               "signs them out everywhere; staff set a new one up at next sign-in.")
    factors_reset.add_argument("--email", required=True)
    factors_reset.set_defaults(func=cmd_reset_factors)


def cmd_reset_link(args: argparse.Namespace) -> None:

    settings = _settings()
    url = _database_url(settings)

    async def work(session: Any) -> str:
        user = (await session.scalars(select(User).where(func.lower(User.email) == args.email.lower()))).first()
        if user is None:
            raise SystemExit(f"No member with email {args.email}")
        return await accounts.create_link(session, None, user.id, "reset")

    token = _with_session(url, work)
    _print_link(settings, f"One-time password reset link (48 hours):\n{settings.base_url}/link/{token}")


def cmd_housekeeping(args: argparse.Namespace) -> None:
    url = _database_url(_settings())
    counts = _with_session(url, lambda session: housekeeping.run(session, [job for p in PILLARS for job in p.housekeeping]))
    print("housekeeping: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def cmd_rekey(args: argparse.Namespace) -> None:
    settings = _settings()
    url = _database_url(settings)
    upgrade_blocking(url)
    anonymity = Anonymity(settings.anon_key)
    hooks = [p.rekey for p in PILLARS if p.rekey is not None]
    counts = _with_session(url, lambda session: rekey.rekey(session, anonymity, hooks))
    print("anonymity rekey: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _refuse_if_rekey_pending(url: str) -> None:
    if _with_session(url, scopes.rekey_pending):
        raise SystemExit(scopes.REKEY_NEEDED)


def base_url_is_derived(settings: Settings) -> bool:
    """True when BASE_URL was not set, so the public address is only guessed from HOST and PORT."""
    return settings.base_url == f"http://{settings.host}:{settings.port}"


def serving_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """`serve --host/--port` move the guessed public address with them (BASE_URL, when set, is kept)."""
    moved = settings.with_(host=host or settings.host, port=port or settings.port)
    return moved.with_(base_url=f"http://{moved.host}:{moved.port}") if base_url_is_derived(settings) else moved


def _print_link(settings: Settings, text: str) -> None:
    """A one-time link for a person: on BASE_URL, or on a guessed address, which this says."""
    print(text, flush=True)
    if base_url_is_derived(settings):
        print(f"note: BASE_URL is not set, so this link assumes the site is at {settings.base_url}; set BASE_URL "
              "to the address members use (the same for `community serve`).", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = serving_settings(_settings(), args.host, args.port)
    host, port = settings.host, settings.port
    # The workers read their settings from the environment: --host/--port must reach them too.
    os.environ.update(HOST=host, PORT=str(port))
    url = _database_url(settings)
    if not args.no_bootstrap:
        upgrade_blocking(url)
        counts = _with_session(url, seed.run)
        if any(counts.values()):
            print("seed: " + ", ".join(f"{k} +{v}" for k, v in counts.items()))
        _admin_link(settings, url, settings.admin_email, "Admin", always=False)
    _refuse_if_rekey_pending(url)
    configure_logging(settings)
    if not settings.forwarded_allow_ips:
        print("note: FORWARDED_ALLOW_IPS is not set, so X-Forwarded-For/Proto are ignored: behind a proxy, set it "
              "to the proxy's address, or every client counts as the proxy (one sign-in limit for all).",
              file=sys.stderr, flush=True)
    _metrics_directory(settings, args.workers)
    catcher = _start_catcher(settings)
    print(f"Serving on http://{host}:{port}  (Ctrl-C stops)", flush=True)
    try:
        uvicorn.run("community.app:factory", factory=True, host=host, port=port, workers=args.workers,
                    **server_options(settings))
    finally:
        if catcher is not None:
            catcher.stop()


def _metrics_directory(settings: Settings, workers: int) -> None:
    """Several workers: /metrics must add up all of them, so each writes its samples to files in one directory
    (prometheus_client's multiprocess mode). The workers are new processes that read PROMETHEUS_MULTIPROC_DIR
    when they import prometheus_client, so it is set here, before they start, and emptied of a former run's."""
    directory = settings.prometheus_multiproc_dir
    if not directory and workers > 1:
        directory = str(settings.var_dir / "metrics")
        os.environ.update(PROMETHEUS_MULTIPROC_DIR=directory)
    if directory:
        prepare_directory(Path(directory))


def _start_catcher(settings: Settings) -> Catcher | None:
    """Development without SMTP_URL: a local SMTP server keeps every message under var/mail/ (see /admin/mail)."""
    if not settings.mail_catcher:
        return None
    catcher = Catcher(settings.var_dir / "mail", settings.mail_catcher_port)
    try:
        catcher.start()
    except (OSError, RuntimeError) as exc:
        raise SystemExit(f"The local mail catcher could not listen on 127.0.0.1:{settings.mail_catcher_port} "
                         f"({exc}). Set MAIL_CATCHER_PORT to a free port, or SMTP_URL to a real server.") from None
    print(f"Mail: no SMTP_URL, so messages are caught under {settings.var_dir / 'mail'} "
          f"(read them at /admin/mail)", flush=True)
    return catcher


async def _mail_forever(settings: Settings, url: str) -> None:
    """The sender with its periodic notification-mail job, as inside `community serve`."""
    db = Database(url, pool_size=2)
    try:
        job = digests.job(db, Outbox(settings), Anonymity(settings.anon_key), settings,
                          [job for pillar in PILLARS for job in pillar.mail_jobs])
        await Sender(settings, url, periodic=job).run()
    finally:
        await db.dispose()


def cmd_mailer(args: argparse.Namespace) -> None:
    """Works the outbox in this process only (instead of, or beside, the senders inside `community serve`)."""
    settings = _settings()
    url = _database_url(settings)
    configure_logging(settings)
    catcher = _start_catcher(settings) if args.catch else None
    print(f"mailer: sending to {settings.smtp_target.split('@')[-1]} (Ctrl-C stops)", flush=True)
    try:
        asyncio.run(_mail_forever(settings, url))
    finally:
        if catcher is not None:
            catcher.stop()


def server_options(settings: Settings | None = None) -> dict[str, Any]:
    """uvicorn settings shared by `serve` and the benchmarks' baselines (so they compare like with like)."""
    # X-Forwarded-For/Proto are believed only from the proxies FORWARDED_ALLOW_IPS names (none by default): from
    # any other peer, loopback included, they would let a client choose its own address and so its sign-in limit.
    trusted = (settings or Settings()).forwarded_allow_ips
    return dict(
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        ws="websockets-sansio",  # no background tasks per connection; see community/rooms/web/sockets.py
        ws_per_message_deflate=False,  # zlib state costs tens to hundreds of KiB per socket; frames are small
        ws_max_size=64 * 1024,
        # A client that vanished without a close (network gone) is noticed within 20 s, and its presence ends.
        ws_ping_interval=10,
        ws_ping_timeout=10,
        timeout_graceful_shutdown=10,
        # With --workers, the supervisor pings each worker and replaces one that does not answer in time. Its 5 s
        # default killed workers still importing (the safety model) on a busy machine, again and again; a
        # worker's event loop can also be that busy under load without being stuck.
        timeout_worker_healthcheck=30,
        log_config=None,
        access_log=False,
        server_header=False,
    )


def _add_mailer(sub: Any) -> None:
    mailer = sub.add_parser("mailer", help="send the outbox's mail from this process",
                            description="Works the mail outbox until stopped. `community serve` already sends "
                                        "(one process at a time, by advisory lock); run this to send from a "
                                        "separate process. Without SMTP_URL it sends to the local catcher that "
                                        "`community serve` starts, or (with --catch) starts one itself.")
    mailer.add_argument("--catch", action="store_true",
                        help="start the local catcher here (development, when `community serve` is not running)")
    mailer.set_defaults(func=cmd_mailer)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="community", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate, seed, ensure an admin, then serve HTTP and WebSockets",
                           description="Serves the app with uvicorn. Without DATABASE_URL it starts the "
                                       "embedded PostgreSQL under var/pgdata.")
    serve.add_argument("--host", help="address to bind (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="number of worker processes (default 1)")
    serve.add_argument("--no-bootstrap", action="store_true",
                       help="skip migrate/seed/admin (when a separate one-shot job does them)")
    serve.set_defaults(func=cmd_serve)

    _add_mailer(sub)
    sub.add_parser("migrate", help="apply database migrations",
                   description="Applies Alembic migrations up to the newest revision.").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="add seed content (idempotent)",
                   description="Adds categories, prompts and rooms; never duplicates, keeps admins' edits."
                   ).set_defaults(func=cmd_seed)

    admin = sub.add_parser("create-admin", help="create or promote an admin and print a one-time sign-in link",
                           description="Without --email: makes sure an admin exists and prints its sign-in link.")
    admin.add_argument("--email", help="email of the admin to create or promote")
    admin.add_argument("--name", default="Admin", help="display name for a new admin")
    admin.set_defaults(func=cmd_create_admin)

    invite = sub.add_parser("invite", help="create an invitation link",
                            description="Prints a single-use invitation link.")
    invite.add_argument("--role", required=True, choices=["resident", "attending", "moderator", "admin"])
    invite.add_argument("--cohort", help="cohort or program, e.g. 'IM 2027'")
    invite.add_argument("--note", help="a note for the invitations list")
    invite.add_argument("--days", type=int, default=7, help="days until it expires (default 7)")
    invite.set_defaults(func=cmd_invite)

    reset = sub.add_parser("reset-link", help="print a one-time password reset link for a member",
                           description="For members who forgot their password; no mail server needed.")
    reset.add_argument("--email", required=True)
    reset.set_defaults(func=cmd_reset_link)
    _factors_parser(sub)

    sub.add_parser("housekeeping", help="run retention jobs once (expired sessions, room transcripts)",
                   description="Safe to run from cron on one host or many: jobs take advisory locks."
                   ).set_defaults(func=cmd_housekeeping)
    _anonymity_parser(sub)
    _add_safety(sub)
    return parser


def _anonymity_parser(sub: Any) -> None:
    anonymity = sub.add_parser("anonymity", help="maintenance of anonymous authorship (needs ANON_KEY)",
                               description="Commands that need ANON_KEY, the key anonymous authorship is sealed with.")
    anonymity_sub = anonymity.add_subparsers(dest="anonymity_command", required=True, metavar="ANONYMITY_COMMAND")
    anonymity_sub.add_parser("rekey", help="move anonymous rows from member-wide tags to scoped tags (once)",
                             description="After migration 0018 on a database that already held anonymous "
                                         "writing: gives every anonymous scope its own tag and fills the keyring. "
                                         "Uses the same ANON_KEY as the app; safe to run again."
                             ).set_defaults(func=cmd_rekey)


def cmd_safety_train(args: argparse.Namespace) -> None:
    safety_train.main()


def cmd_safety_distill(args: argparse.Namespace) -> None:
    safety_distill.main()


def _add_safety(sub: Any) -> None:
    """`community safety train|distill`: rebuild the crisis classifier's head, or its static token table."""
    safety = sub.add_parser("safety", help="rebuild the crisis classifier (train) or its token table (distill)",
                            description="train: the head from tests/data/crisis.jsonl (train and dev splits); "
                                        "distill: the static table from the installed model package.")
    steps = safety.add_subparsers(dest="step", required=True, metavar="STEP")
    steps.add_parser("train", help="rebuild model/crisis_head.json").set_defaults(func=cmd_safety_train)
    steps.add_parser("distill", help="rebuild model/static_table.npy (minutes)").set_defaults(func=cmd_safety_distill)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


if __name__ == "__main__":
    main()
