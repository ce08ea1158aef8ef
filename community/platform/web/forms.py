"""Reads request bodies as forms, strictly: invalid UTF-8 and NUL bytes become field errors, not 500s."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from community.platform.errors import Invalid
from community.platform.numbers import parse_int

BAD_UTF8 = "This contained bytes that are not valid UTF-8 text; they were replaced with �. Please check it."
NUL = "This contained a NUL character, which is not allowed; it was removed. Please check it."


class Form:
    """A parsed form; values are always str. `errors` holds problems found while decoding."""

    def __init__(self, items: list[tuple[str, str]], errors: dict[str, str]) -> None:
        self._items = items
        self.errors = errors

    def get(self, name: str, default: str = "") -> str:
        for key, value in self._items:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def items(self) -> list[tuple[str, str]]:
        """Every field in order, repeated names included (the step-up page posts them again)."""
        return list(self._items)

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self._items)

    def int(self, name: str, *, default: int | None = None, low: int | None = None,
            high: int | None = None, message: str | None = None) -> int | None:
        """Parses an integer field; raises Invalid with a field message on a wrong type or range."""
        raw = self.get(name).strip()
        if raw == "":
            return default
        negative = raw.startswith("-")
        value = parse_int(raw[1:] if negative else raw)  # ASCII digits only: "²", "٣" and "１" are not numbers
        if value is None:
            raise Invalid(fields={name: message or "Please enter a whole number."})
        value = -value if negative else value
        if (low is not None and value < low) or (high is not None and value > high):
            raise Invalid(fields={name: message or f"Please enter a number from {low} to {high}."})
        return value

    def as_dict(self) -> dict[str, str]:
        """First value of each field, for re-rendering a form with the draft kept."""
        out: dict[str, str] = {}
        for key, value in self._items:
            out.setdefault(key, value)
        return out

    def check(self) -> None:
        if self.errors:
            raise Invalid(fields=dict(self.errors))


def _decode(raw: bytes) -> tuple[str, str | None]:
    try:
        text = raw.decode("utf-8")
        problem = None
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        problem = BAD_UTF8
    if "\x00" in text:
        text = text.replace("\x00", "")
        problem = problem or NUL
    return text, problem


def parse_urlencoded(body: bytes) -> Form:
    items: list[tuple[str, str]] = []
    errors: dict[str, str] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition(b"=")
        key, _ = _decode(unquote_to_bytes(raw_key.replace(b"+", b" ")))
        value, problem = _decode(unquote_to_bytes(raw_value.replace(b"+", b" ")))
        items.append((key, value))
        if problem:
            errors.setdefault(key, problem)
    return Form(items, errors)


async def read_form(request: Request) -> Form:
    """The body was already size-checked and buffered by the guard middleware."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type == "application/x-www-form-urlencoded" or (not content_type and body):
        return parse_urlencoded(body)
    if content_type == "multipart/form-data":
        items: list[tuple[str, str]] = []
        errors: dict[str, str] = {}
        async with request.form() as form:
            for key, value in form.multi_items():
                # An uploaded file (a CSV of invitations) is read as text, like any field: the guard
                # middleware already capped the body's size.
                raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else await value.read()
                text, problem = _decode(raw)
                items.append((key, text))
                if problem:
                    errors.setdefault(key, problem)
        return Form(items, errors)
    return Form([], {})
