"""SIGTERM drains: a request in flight on a keep-alive connection when SIGTERM arrives still gets its full answer.

The request is a real sign-in whose body is still being uploaded when the signal lands: the server has logged
"Shutting down" (it stopped accepting connections) before the rest of the body is sent, then answers 303 and
exits cleanly. With several workers, uvicorn's supervisor forwards SIGTERM to each worker, which drains alike.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from urllib.parse import urlencode

import httpx
import pytest

from community.platform.db import Database
from tests.conftest import PASSWORD, create_member

pytestmark = pytest.mark.live


def _read_response(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    """Reads one HTTP/1.1 response with a Content-Length (what uvicorn sends for our pages)."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before the response headers: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()  # later duplicates (set-cookie) win; fine here
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed in the middle of the response body")
        body += chunk
    return status, headers, body[:length]


def _wait_for_log(server, needle: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in server.log_path.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


async def _member(database_url: str):
    db = Database(database_url, pool_size=1)
    try:
        return await create_member(db, "resident", name="Draining Member")
    finally:
        await db.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_an_in_flight_request_finish(live_database, live_server_factory, workers):
    user = asyncio.run(_member(live_database))
    server = live_server_factory(live_database, workers=workers)
    csrf = httpx.get(server.url + "/signin", timeout=10).cookies["csrf"]
    body = urlencode({"email": user.email, "password": PASSWORD, "csrf_token": csrf}).encode()
    deadline = time.monotonic() + 30

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # A first request on this keep-alive connection, answered before the signal...
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        status, _, payload = _read_response(sock, deadline)
        assert (status, payload) == (200, b"ok")
        # ...then a second one whose body is only half sent when SIGTERM arrives.
        head = (f"POST /signin HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                f"Cookie: csrf={csrf}\r\n\r\n").encode()
        half = len(body) // 2
        sock.sendall(head + body[:half])
        time.sleep(0.3)  # the server has parsed the headers: the request is in flight
        server.process.send_signal(signal.SIGTERM)
        assert _wait_for_log(server, "Shutting down", 10), server.log_path.read_text()[-2000:]
        time.sleep(0.5)
        assert server.process.poll() is None, "the server exited with a request in flight"
        sock.sendall(body[half:])
        status, headers, _ = _read_response(sock, deadline)

    assert status == 303, f"in-flight sign-in got {status}"
    assert "session=" in headers.get("set-cookie", "") or headers.get("location") == "/"
    assert headers.get("connection", "").lower() == "close", "after SIGTERM the connection is not kept alive"
    try:
        code = server.process.wait(20)
    except Exception:
        pytest.fail("the server did not exit after draining")
    # uvicorn re-raises the signal it caught once drained, so a single process ends "killed by SIGTERM";
    # systemd and Docker count that as a clean stop. The multi-worker supervisor exits 0.
    assert code in (0, -signal.SIGTERM), server.log_path.read_text()[-2000:]
    assert "timeout graceful shutdown exceeded" not in server.log_path.read_text()
