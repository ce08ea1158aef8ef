"""Errors raised by actions; the web layer turns each into a status code and a page."""

from __future__ import annotations


class ActionError(Exception):
    status_code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(ActionError):
    status_code = 404


class Forbidden(ActionError):
    status_code = 403


class Invalid(ActionError):
    """Validation failed; `fields` maps a form field to its message."""

    status_code = 400

    def __init__(self, message: str = "Please correct the highlighted fields.",
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class SearchTooBroad(Invalid):
    """A word search that could not finish in time (db.custom_plans): the member is asked for a narrower one."""

    def __init__(self) -> None:
        super().__init__("That search would take too long to finish. Please add a less common word, or remove "
                         "the quotes around a phrase.", fields={"q": "Try a narrower search."})


class Conflict(ActionError):
    status_code = 409


class RateLimited(ActionError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


def minutes_phrase(seconds: int) -> str:
    minutes = max(1, -(-int(seconds) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
