"""Whole numbers from users (path ids, query parameters, form and socket fields): the one parser.

ASCII digits only. `str.isdigit()` is true for "²" (and `int("²")` raises), and `int()` reads "٣" and "１" as
3 and 1: neither may decide what an id is. Anything else is None, for the caller to refuse or ignore.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def parse_int(raw: str | None, *, max_digits: int = 18, low: int | None = None, high: int | None = None) -> int | None:
    """The number in `raw` (surrounding spaces allowed), or None when it is not 1 to `max_digits` ASCII digits
    or falls outside [low, high]."""
    if raw is None:
        return None
    raw = raw.strip()
    if not 0 < len(raw) <= max_digits or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value
