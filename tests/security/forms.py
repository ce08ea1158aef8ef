"""The app's forms, found the way a tester finds them: render every GET page and read the forms on it.

`harvest(...)` requests every GET route (as the given clients), parses each page's `<form method="post">` for
its action and its fields (input, textarea, select, with the values the page put there), and files them under
the POST route template the action matches. Query parameters are read the same way from the pages' links and
GET forms, plus those the handlers read (`query_names()`, from the code's `query_params.get("...")` calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

from tests.security.routes import Endpoint

ROOT = Path(__file__).resolve().parents[2]


def route_regex(template: str) -> re.Pattern[str]:
    """/t/{thread_id:dbid}/reply -> a regex for its concrete paths."""
    parts = re.split(r"({[^}]+})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def match_route(endpoints: list[Endpoint], method: str, path: str) -> Endpoint | None:
    for endpoint in endpoints:
        if endpoint.method == method and route_regex(endpoint.path).match(path):
            return endpoint
    return None


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)   # name -> the value the page gave it
    kinds: dict[str, str] = field(default_factory=dict)    # name -> input type (text, hidden, number, textarea…)
    options: dict[str, list[str]] = field(default_factory=dict)
    client: object = None  # who was shown the form (the fuzz posts it as them)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = Form(a.get("action", ""), (a.get("method") or "get").upper())
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                if kind == "submit" and "value" in a:
                    self._form.options.setdefault(name, []).append(a["value"])
                    self._form.kinds.setdefault(name, "submit")
                return
            if kind in ("checkbox", "radio"):
                self._form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a or name not in self._form.fields:
                    self._form.fields[name] = a.get("value", "on")
            else:
                self._form.fields[name] = a.get("value", "")
            self._form.kinds[name] = kind
        elif tag == "textarea":
            self._form.fields[name] = ""
            self._form.kinds[name] = "textarea"
            self._textarea = name
        elif tag == "select":
            self._form.fields.setdefault(name, "")
            self._form.kinds[name] = "select"
            self._select = name
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form.options.setdefault(self._select, []).append(value)
            if "selected" in a or not self._form.fields.get(self._select):
                self._form.fields[self._select] = value

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(html: str) -> tuple[list[Form], list[str]]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, parser.links


@dataclass
class Harvest:
    """Forms by POST route, query parameter names by GET route, and the pages read."""

    forms: dict[Endpoint, list[Form]] = field(default_factory=dict)
    queries: dict[Endpoint, set[str]] = field(default_factory=dict)
    pages: int = 0

    def fields(self, endpoint: Endpoint) -> dict[str, str]:
        merged: dict[str, str] = {}
        for form in self.forms.get(endpoint, []):
            for name, value in form.fields.items():
                merged.setdefault(name, value)
        merged.pop("csrf_token", None)
        return merged


async def harvest(endpoints: list[Endpoint], clients, paths: list[str]) -> Harvest:
    """Reads `paths` (concrete GET paths) as each client; forms and query names are filed by route."""
    found = Harvest()
    for client in clients:
        for path in paths:
            response = await client.get(path)
            if "html" not in response.headers.get("content-type", ""):
                continue
            found.pages += 1
            forms, links = parse_page(response.text)
            for form in forms:
                target = urlsplit(urljoin(path, form.action or path))
                if target.netloc:
                    continue
                endpoint = match_route(endpoints, "POST" if form.method == "POST" else "GET", target.path)
                if endpoint is None:
                    continue
                form.client = client
                if form.method == "POST":
                    found.forms.setdefault(endpoint, []).append(form)
                else:
                    found.queries.setdefault(endpoint, set()).update(form.fields)
            for href in links:
                target = urlsplit(urljoin(path, href))
                endpoint = match_route(endpoints, "GET", target.path) if not target.netloc else None
                if endpoint is not None and target.query:
                    found.queries.setdefault(endpoint, set()).update(k for k, _ in parse_qsl(target.query, True))
    return found


def query_names() -> set[str]:
    """Every query parameter name a handler reads: `query_params.get("x")`, `query_params["x"]`, and the names
    handed to the shared int helpers (`_int_param(request, "x")`)."""
    names: set[str] = set()
    pattern = re.compile(r"""query_params(?:\.get\(|\[)\s*["']([a-z_]+)["']|_param\(request,\s*["']([a-z_]+)["']""")
    for source in (ROOT / "community").rglob("*.py"):
        for match in pattern.finditer(source.read_text()):
            names.add(match.group(1) or match.group(2))
    return names
