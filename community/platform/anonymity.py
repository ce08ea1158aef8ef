"""Anonymity: seals the link from anonymous content to its author with ANON_KEY, a key never in the database.

- `author_tag` is a keyed hash of a scope and a member id (a tag per scope: a reflection, a room session, ...):
  the app routes notifications to a tag, but a copy of the database alone cannot turn a tag back into a member,
  nor tell that two scopes' tags belong to one member.
- `scope_slots` are the keyed numbers under which a member's tags are kept (accounts.scopes): the app finds
  "my anonymous writing" by computing them, and no two of them share a value.
- `seal`/`unseal` encrypt a value (AES-GCM, random nonce) so that only the app, holding the key, can read it;
  used where the app must recover the member id itself (sanctions, an admin's recorded unmasking).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from community.platform.times import day_of

# At most this many restrictions on anonymous writing apply to one member at a time.
RESTRICTION_SLOTS = 16
# A member's scope slots are looked up this many at a time (accounts.scopes).
SCOPE_BATCH = 64
# Members whose computed scope slots each process keeps (they are a pure function of the key and the member).
SLOT_CACHE_MEMBERS = 20_000


def _key(anon_key: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}\x1f{anon_key}".encode()).digest()


def author_tag(anon_key: str, user_id: int, scope: str) -> str:
    """Deterministic per (key, scope, member); different scopes give unlinkable tags."""
    return hmac.new(_key(anon_key, "tag"), f"{scope}:{user_id}".encode(), hashlib.sha256).hexdigest()


def pseudonym_index(anon_key: str, user_id: int, thread_scope: str, modulo: int) -> int:
    """A stable number per (member, thread) that cannot be linked across threads without the key."""
    digest = hmac.new(_key(anon_key, "pseudonym"), f"{thread_scope}:{user_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % modulo


def seal(anon_key: str, value: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(anon_key, "seal")).encrypt(nonce, value.encode(), b"community-seal-v1")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(anon_key: str, token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(_key(anon_key, "seal")).decrypt(raw[:12], raw[12:], b"community-seal-v1").decode()


class Anonymity:
    """The one anonymity service: built once by create_app from ANON_KEY and handed to whatever needs it.

    It owns scoped tags, pseudonym numbers, seals and coarse times. No other module reads ANON_KEY.
    """

    def __init__(self, anon_key: str) -> None:
        if not anon_key:
            raise ValueError("ANON_KEY is required: it seals who wrote anonymous pieces")
        self._key = anon_key
        self._tag_mac = hmac.new(_key(anon_key, "tag"), digestmod=hashlib.sha256)
        self._slot_mac = hmac.new(_key(anon_key, "slot"), digestmod=hashlib.sha256)
        self._slots: dict[int, list[str]] = {}

    def tag(self, user_id: int, scope: str) -> str:
        """The member's tag in one scope ("reflection:12", "room:3", ...): the same as author_tag, computed from
        a keyed state made once (the wall computes one per anonymous card)."""
        mac = self._tag_mac.copy()
        mac.update(f"{scope}:{user_id}".encode())
        return mac.hexdigest()

    def scope_slots(self, user_id: int, count: int) -> list[str]:
        """The member's first `count` keyring slots (accounts.scopes), kept per process: computing them is the
        costly part of finding a member's tags, and they never change."""
        slots = self._slots.get(user_id)
        if slots is None:
            if len(self._slots) >= SLOT_CACHE_MEMBERS:
                self._slots.clear()
            slots = self._slots[user_id] = []
        for n in range(len(slots), count):
            mac = self._slot_mac.copy()
            mac.update(f"{user_id}:{n}".encode())
            slots.append(mac.hexdigest())
        return slots[:count]

    def restriction_slots(self, user_id: int) -> list[str]:
        """The keyed values under which restrictions on this member may be stored, one per restriction at a time
        (accounts.restrictions): the app finds a member's by computing all of them; no two share a value."""
        return [author_tag(self._key, user_id, f"restriction:{n}") for n in range(RESTRICTION_SLOTS)]

    def pseudonym_index(self, user_id: int, thread_scope: str, modulo: int) -> int:
        return pseudonym_index(self._key, user_id, thread_scope, modulo)

    def seal(self, value: str) -> str:
        return seal(self._key, value)

    def unseal(self, token: str) -> str:
        return unseal(self._key, token)

    def unseal_id(self, sealed: str | None) -> int | None:
        """The member id in a sealed value, or None when there is none or it was sealed under another key."""
        if not sealed:
            return None
        try:
            return int(self.unseal(sealed))
        except (ValueError, TypeError, InvalidTag):
            return None

    @staticmethod
    def day_of(value: datetime) -> datetime:
        """Times on anonymous rows are kept to the day (UTC): nothing to match against activity by the minute."""
        return day_of(value)
