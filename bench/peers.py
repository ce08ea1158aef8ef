"""Peers measured side by side with us in the day run (bench/day_bench.py): other forum software serving its
topic page, signed in, from one worker, on the same embedded PostgreSQL. Each lives in a bench-only virtualenv
under var/bench/peers/<name>, created and installed by the bench itself when missing (from the package
registry, with pip); nothing of theirs is an app dependency or committed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class PeerUnavailable(Exception):
    """A peer that cannot be set up here (no registry, an install that failed); the message says why."""


PEERS: dict[str, Callable[[str, Any], Any]] = {}
