"""The ANON_KEY of the current request, for code that is not handed the settings (moderation adapters).

ViewerMiddleware sets it for every request; the CLI and tests set it with `current_anon_key.set(...)`.
"""

from __future__ import annotations

from contextvars import ContextVar

current_anon_key: ContextVar[str | None] = ContextVar("current_anon_key", default=None)


def require_anon_key() -> str:
    key = current_anon_key.get()
    if not key:
        raise RuntimeError("ANON_KEY is not available in this context")
    return key
