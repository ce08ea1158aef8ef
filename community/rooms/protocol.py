"""The room WebSocket protocol: frame shapes, limits and close codes, in one place.

Server -> client frames (JSON text):
  welcome   {room, me}                         once per connection, first
  history   {reset, items, last_seq}           recent history (reset) or the replay of what was missed
  gap       {missed}                           the resume point is too old: a reset history follows
  message   {seq, id, pid, author, anonymous, role, html, at, client_id, deleted}
  event     {seq, kind, ...}                   delete / mute / remove / slow / lock / open / end
  presence  {people: [{pid, label, anonymous, role}]}    the whole list: once per connection (from the hub)
            {joined: [{pid, label, anonymous, role}], left: [pid]}   then only what changed
  ack       {client_id, seq}                   after commit
  held      {client_id, findings, highlighted} likely patient identifiers: nothing was sent
  resources {resources}                        crisis language: calm help for the sender
  error     {code, message, client_id?}
  removed / ended                              followed by a close
Client -> server frames:
  send      {client_id, text, confirm?}
  moderate  {action: delete|mute|remove|slow|lock|end, seq?, pid?, minutes?, seconds?, locked?}
  ping      {}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

MAX_MESSAGE_CHARS = 2000
HISTORY_LIMIT = 100
MAX_REPLAY = 500

# Close codes (RFC 6455 and the IANA registry; 4000-4999 are ours).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
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
    """Never carries a member id: `pid` is the per-room participant, `author` a name or a pseudonym."""
    if deleted:
        return {"type": "message", "seq": seq, "id": id, "deleted": True}
    return {"type": "message", "seq": seq, "id": id, "pid": pid, "author": author, "anonymous": anonymous,
            "role": role, "html": html, "at": at, "client_id": client_id, "deleted": False}


def event_frame(seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "type": "event", "seq": seq, "kind": kind}


def error(code: str, message: str, client_id: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id:
        frame["client_id"] = client_id
    return dumps(frame)


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
    if frame["type"] not in ("send", "moderate", "ping"):
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
    return frame
