"""The room WebSocket protocol: frame shapes, limits and close codes, in one place.

Server -> client frames (JSON text):
  welcome   {room, me}                         once per connection, first
  history   {reset, items, last_seq, more?, earlier?}
                                               recent history (reset: true; `earlier`: older messages exist), or
                                               one page of everything missed since the resume point, in seq
                                               order (reset: false; `more`: another page follows). A page holds
                                               at most CATCHUP_PAGE items and about CATCHUP_FRAME_CHARS characters.
  expired   {count, message}                   before the catch-up: `count` missed items were deleted under the
                                               room's retention and cannot be replayed
  earlier   {items, more}                      the answer to `earlier`: messages before `before`, oldest first
  message   {seq, id, pid, author, anonymous, role, html, at, client_id, deleted}
                                               `pid` is room-local (a random number, the participant's
                                               `local_id`): no frame carries a participant's row id or a member
                                               id. `at` is the minute the message was written, nothing finer.
  event     {seq, kind, ...}                   delete / mute / remove / slow / lock / open / end
  presence  {people: [{pid, label, anonymous, role}]}    the whole list: once per connection (from the hub)
            {joined: [{pid, label, anonymous, role}], left: [pid]}   then only what changed
  ack       {client_id, seq, duplicate?}       after commit; a resend of a stored client id gets the original
                                               seq (duplicate: true) and nothing is stored twice
  held      {client_id, findings, highlighted} likely patient identifiers: nothing was sent
  resources {resources}                        crisis language: calm help for the sender
  error     {code, message, client_id?, retry_after?}
                                               code "unavailable": nothing was stored, try again after
                                               `retry_after` seconds (a close 1013 follows); "internal": a close
                                               1011 follows. Any other code: this message was refused.
  removed / ended                              followed by a close
Client -> server frames:
  send      {client_id, text, confirm?}        resend with the same client_id until acked: stored once
  earlier   {before}                           asks for the page of messages before seq `before`
  moderate  {action: delete|mute|remove|slow|lock|end, seq?, pid?, minutes?, seconds?, locked?}
  ping      {}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

MAX_MESSAGE_CHARS = 2000
HISTORY_LIMIT = 100
CATCHUP_PAGE = 500
CATCHUP_FRAME_CHARS = 200_000  # at most ~600 KB of UTF-8: under a client's usual 1 MiB frame limit
RETRY_AFTER_SECONDS = 2

# Close codes (RFC 6455 and the IANA registry; 4000-4999 are ours).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN = 1013
CLOSE_IDLE = 4000


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def message_frame(*, seq: int, id: int, pid: int, author: str, anonymous: bool, role: str, html: str,
                  at: datetime, client_id: str | None, deleted: bool) -> dict[str, Any]:
    """Never carries a member id: `pid` is the room-local participant id, `author` a name or a pseudonym, and `at`
    the minute (what the room shows), so no frame gives an exact time to line up with rows elsewhere."""
    if deleted:
        return {"type": "message", "seq": seq, "id": id, "deleted": True}
    return {"type": "message", "seq": seq, "id": id, "pid": pid, "author": author, "anonymous": anonymous,
            "role": role, "html": html, "at": at.replace(second=0, microsecond=0), "client_id": client_id,
            "deleted": False}


def event_frame(seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "type": "event", "seq": seq, "kind": kind}


def error(code: str, message: str, client_id: str | None = None, retry_after: int | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return dumps(frame)


def history_page(texts: list[str], last_seq: int, more: bool) -> str:
    """A catch-up page from already serialised items (each item is serialised once, for its size)."""
    head = dumps({"type": "history", "reset": False, "last_seq": last_seq, "more": more})
    return f'{head[:-1]},"items":[{",".join(texts)}]}}'


MAX_SEQ = 2**63 - 1


class BadFrame(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(text: str) -> dict[str, Any]:
    """Parses one client frame; raises BadFrame with a message meant for the member."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise BadFrame("bad_json", "That frame was not valid JSON.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrame("bad_frame", "A frame must be a JSON object with a \"type\".")
    if frame["type"] not in ("send", "moderate", "ping", "earlier"):
        raise BadFrame("unknown_type", f"Unknown frame type: {frame['type'][:40]!r}.")
    client_id = frame.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        raise BadFrame("bad_frame", "client_id must be a string of at most 64 characters.")
    if frame["type"] == "send":
        body = frame.get("text")
        if not isinstance(body, str):
            raise BadFrame("bad_frame", "A message needs a \"text\" string.")
        if len(body) > MAX_MESSAGE_CHARS:
            raise BadFrame("too_long", f"Messages can be at most {MAX_MESSAGE_CHARS:,} characters "
                                       f"(this one has {len(body):,}).")
        if not body.strip():
            raise BadFrame("empty", "The message is empty.")
    if frame["type"] == "earlier":
        before = frame.get("before")
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before <= MAX_SEQ:
            raise BadFrame("bad_frame", "\"before\" must be a whole number (a message's seq).")
    return frame
