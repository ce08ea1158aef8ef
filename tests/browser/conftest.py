"""Browser fixtures: Debian's Chromium driven by Playwright (never Playwright's own browser download),
against a real `community serve` on 127.0.0.1 and a real PostgreSQL. On failure a screenshot and the page HTML
are saved under artifacts/browser/<test>/."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest

from community.settings import ROOT
from tests.conftest import LiveServer, clone_database, free_port

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
async def playwright_instance():
    if not chromium_installed():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (make test installs it as root)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        yield p


@pytest.fixture(scope="session")
async def browser(playwright_instance):
    browser = await playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


@pytest.fixture(scope="module")
async def server(database_urls, tmp_path_factory) -> AsyncIterator[LiveServer]:
    """One real server (and database) per test module; journeys use fresh members so they do not collide."""
    port = free_port()
    url = await clone_database(database_urls, f"{database_urls['main'].rsplit('/', 1)[-1].split('?')[0][:-5]}"
                                              f"_br{port}")
    srv = LiveServer(url, port, tmp_path_factory.mktemp("browser"))
    await asyncio.get_running_loop().run_in_executor(None, srv.wait_ready)
    yield srv
    srv.stop()


@pytest.fixture
async def new_page(browser, request):
    """`await new_page(viewport=...)` -> a page in a fresh context (its own cookies); artifacts on failure."""
    contexts = []

    async def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = await browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
        folder.mkdir(parents=True, exist_ok=True)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                try:
                    await page.screenshot(path=str(folder / f"page{n}_{m}.png"), full_page=True)
                    (folder / f"page{n}_{m}.html").write_text(await page.content())
                except Exception:  # a closed page cannot be captured; keep going
                    pass
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page):
    return await new_page()


async def admin_setup_link(server: LiveServer) -> str:
    """Runs the real CLI, as an operator would, and returns the printed one-time link."""
    env = {**os.environ, "DATABASE_URL": server.database_url, "BASE_URL": server.url, "VAR_DIR": "/tmp"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(os.sys.executable)), "-m", "community.cli", "create-admin", "--email",
        f"admin{free_port()}@example.org", "--name", "Ada Admin", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    match = re.search(r"(http://\S+/link/\S+)", out.decode())
    assert match, out.decode() + err.decode()
    return match.group(1)


async def invite_link(server: LiveServer, role: str) -> str:
    env = {**os.environ, "DATABASE_URL": server.database_url, "BASE_URL": server.url, "VAR_DIR": "/tmp"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(os.sys.executable)), "-m", "community.cli", "invite", "--role", role, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(ROOT))
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    match = re.search(r"(http://\S+/join/\S+)", out.decode())
    assert match, out.decode() + err.decode()
    return match.group(1)


PASSWORD = "a calm and long browser password"


async def join(page, link: str, name: str, email: str) -> None:
    """Joins through the invitation; a moderator or admin then sets up an authenticator app, as they must before
    any other page (web.factor_guard), and lands on their account page like any member."""
    await page.goto(link)
    await page.get_by_label("Display name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("I have read and accept").check()
    await page.get_by_role("button", name="Create my account").click()
    await page.wait_for_url(re.compile(r"/account"))
    if "/account/security" in page.url:
        await enrol_authenticator(page)
        await page.goto(page.url.split("/account/security", 1)[0] + "/account?welcome=1")


async def enrol_authenticator(page, at: float | None = None) -> str:
    """Sets up an authenticator app through the pages (the code computed as a phone would, at `at`: the server
    accepts the step before and after now); returns the secret, for later codes."""
    base = page.url.split("/", 3)
    await page.goto(f"{base[0]}//{base[2]}/account/security/totp")
    secret = (await page.locator("[data-totp-secret]").inner_text()).strip()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(at if at is not None else time.time()))
    await page.get_by_role("button", name="Turn on").click()
    await page.get_by_role("heading", name="Your recovery codes").wait_for()
    await page.get_by_role("link", name="I have kept them").click()
    await page.wait_for_url(re.compile(r"/account/security$"))
    return secret


async def member_page(new_page, server: LiveServer, role: str, name: str, **options):
    """A fresh browser context signed in as a new member who joined through a real invitation."""
    page = await new_page(**options)
    await join(page, await invite_link(server, role), name, f"{re.sub(r'[^a-z]', '', name.lower())}"
                                                           f"{free_port()}@example.org")
    return page


# ---- shared by the journeys -----------------------------------------------------------------------------------

DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
              "has_touch": True},
}


@pytest.fixture(params=list(DEVICES))
def device(request) -> dict:
    """Context options for the journeys that run at a desktop size and at a phone size."""
    return dict(DEVICES[request.param])


async def admin_page(new_page, server: LiveServer, **options):
    """A fresh context signed in as a new admin, created with the real CLI and its one-time link."""
    page = await new_page(**options)
    await page.goto(await admin_setup_link(server))
    await page.get_by_label("New password", exact=True).fill(PASSWORD)
    await page.get_by_label("Repeat the new password").fill(PASSWORD)
    await page.get_by_role("button", name="Save and sign in").click()
    # A fresh admin sets up a second factor before anything else (web.factor_guard), then goes on.
    await page.wait_for_url(re.compile(r"/account/security"))
    await enrol_authenticator(page)
    await page.goto(server.url + "/")
    return page


async def nav_link(page, name: str):
    """A link of the main navigation; on a phone the Menu button of the compact bar is opened first. Its name may
    end with its badge ("Review queue 1 urgent", "Notifications 2 unread"): the moderators' urgent count arrives
    by the page's poll whenever an earlier step of the module raised an urgent item."""
    badge = r"(\s*\d+ (urgent|unread))?"
    menu = page.get_by_role("navigation", name="Main").get_by_role("button", name="Menu")
    if await menu.is_visible() and await menu.get_attribute("aria-expanded") != "true":
        await menu.click()
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(f"^{re.escape(name)}{badge}$"))


def unique(word: str) -> str:
    """A word (letters only, so search treats it as one plain word) found nowhere else in the database: tests
    share one server per module."""
    return word + "".join("qwertyuiop"[int(d)] for d in str(free_port()))


async def new_member(new_page, server: LiveServer, role: str, first_name: str, **options):
    """(page, identity): a new member with a name, email and handle found nowhere else in the database."""
    from community.platform.accounts.actions import _handle_base

    n = free_port()
    name = f"{first_name} Tester{n}"
    email = f"{first_name.lower()}.t{n}@example.org"
    page = await new_page(**options)
    await join(page, await invite_link(server, role), name, email)
    return page, {"name": name, "email": email, "handle": _handle_base(name)}
