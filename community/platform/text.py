"""The one place that renders user Markdown to sanitized HTML, and derives plain text and mentions from it."""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

__all__ = ["extract_mentions", "mention_candidates", "plain_text", "quote_markdown", "render_light", "render_markdown"]

logger = logging.getLogger(__name__)

LINK_REL = "nofollow noopener ugc"

ALLOWED_TAGS: frozenset[str] = frozenset({
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})
_ALIGNMENTS = frozenset({"left", "center", "right"})

# --- input hygiene -------------------------------------------------------------------------------

_NEWLINES_RE = re.compile(r"\r\n?")
# C0 controls except \t and \n, plus DEL: invisible, useless in prose, and a classic way to smuggle a
# scheme past naive filters ("java\x00script:").
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A Python str may hold lone surrogates (e.g. from surrogateescape decoding); they cannot be encoded
# to UTF-8 and would make the later database write fail, so they become U+FFFD here.
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _clean_source(source: object) -> str:
    if not isinstance(source, str):
        # The API takes str, but a None from a form or a row must not take a page down.
        source = "" if source is None else str(source)
    source = _NEWLINES_RE.sub("\n", source)
    source = _CONTROL_RE.sub("", source)
    return _SURROGATE_RE.sub("\ufffd", source)


# --- link safety ---------------------------------------------------------------------------------

# Browsers drop tabs and newlines anywhere in a URL and ignore leading C0 controls and spaces, so
# "java\tscript:" is "javascript:". Remove everything bleach also ignores, plus zero-width marks,
# before looking for the scheme.
_URL_JUNK_RE = re.compile(r"[\x00-\x20\x7f-\xa0\s`\u200b-\u200f\u2028\u2029\u2060\ufeff]+")
# Anything before the first ":" that comes ahead of any "/", "?" or "#" is treated as a scheme, even
# if a browser would not parse it as one: that refuses "java%09script:" and friends instead of
# reasoning about which of them a browser might still run.
_SCHEME_RE = re.compile(r"([^/?#]*):")


def _is_safe_href(url: str) -> bool:
    """True for http, https and mailto URLs and for same-site relative ones."""
    # Unescape twice: bleach decodes entities in an already-parsed attribute again, so one level of
    # "&amp;#106;" must be judged as it would read after that second pass.
    normalized = _URL_JUNK_RE.sub("", html.unescape(html.unescape(url))).lower()
    if not normalized:
        return False
    # "//host" (and "\\host", which browsers read the same way) leaves the site while looking relative.
    if normalized[:2] in {"//", "\\\\", "/\\", "\\/"}:
        return False
    scheme = _SCHEME_RE.match(normalized)
    return scheme is None or scheme.group(1) in ALLOWED_PROTOCOLS


# --- bare URL linkifying -------------------------------------------------------------------------

# markdown-it-py's linkify rules call a linkify-it-py object, which is not installed and not worth a
# dependency; they only call the four methods below, so a small regex-based stand-in provides them.
# It links http(s):// and www. URLs only (no bare domains, no e-mail addresses), much like GitHub.
_BARE_URL_RE = re.compile(
    r"(?<![\w@.+/:\-])(?:(?P<scheme>https?)://(?=\w)|www\.(?=\w))[^\s<>\"`]*",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = "?!.,:;*_~'\""
_BRACKETS = {")": "(", "]": "["}


@dataclass(frozen=True, slots=True)
class _BareUrl:
    schema: str  # "" for www. links: markdown-it-py then shows the text without the added http://
    index: int
    last_index: int
    text: str
    url: str


def _trim_url(candidate: str) -> str:
    # Sentence punctuation and unbalanced closing brackets after a URL belong to the prose around it.
    while candidate:
        last = candidate[-1]
        if last in _TRAILING_PUNCTUATION:
            candidate = candidate[:-1]
        elif last in _BRACKETS and candidate.count(_BRACKETS[last]) < candidate.count(last):
            candidate = candidate[:-1]
        else:
            break
    return candidate


class _BareUrlLinkifier:
    """The part of linkify_it.LinkifyIt that markdown-it-py's core and inline linkify rules use."""

    def _find(self, text: str, at_start: bool) -> list[_BareUrl]:
        found: list[_BareUrl] = []
        if at_start:
            first = _BARE_URL_RE.match(text)
            matches = [first] if first else []
        else:
            matches = list(_BARE_URL_RE.finditer(text))
        for match in matches:
            raw = _trim_url(match.group(0))
            # Trimming may leave nothing after the prefix ("www._" loses its underscore).
            if not _BARE_URL_RE.fullmatch(raw) or raw.lower() in {"http://", "https://", "www."}:
                continue
            scheme = match.group("scheme")
            found.append(_BareUrl(
                schema=f"{scheme.lower()}:" if scheme else "",
                index=match.start(),
                last_index=match.start() + len(raw),
                text=raw,
                url=raw if scheme else f"http://{raw}",
            ))
        return found

    def pretest(self, text: str) -> bool:
        return "://" in text or "www." in text.lower()

    def test(self, text: str) -> bool:
        return bool(self._find(text, at_start=False))

    def match(self, text: str) -> list[_BareUrl] | None:
        return self._find(text, at_start=False) or None

    def match_at_start(self, text: str) -> _BareUrl | None:
        # Called by the inline rule on "scheme://..." only; www. links are left to the core rule.
        found = self._find(text, at_start=True)
        return found[0] if found and found[0].schema else None


# --- Markdown ------------------------------------------------------------------------------------


def _shift_heading(tag: str) -> str:
    # User content must never outrank the page's own h1/h2: h1 -> h3, h2 -> h4, ... capped at h6.
    return f"h{min(int(tag[1]) + 2, 6)}"


class _SafeRenderer(RendererHTML):
    """Renders only what the allowlist keeps, so bleach has nothing to strip in normal use."""

    def heading_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tokens[idx].tag = _shift_heading(tokens[idx].tag)
        return self.renderToken(tokens, idx, options, env)

    def heading_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tokens[idx].tag = _shift_heading(tokens[idx].tag)
        return self.renderToken(tokens, idx, options, env)

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        # Titles are not on the allowlist; rel keeps search engines from rewarding spam and stops the
        # opened page from reaching back through window.opener.
        token.attrs = {"href": str(token.attrGet("href") or ""), "rel": LINK_REL}
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # No remote images: they leak readers' IP addresses and can be swapped for anything later.
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env).strip()
        src = str(token.attrGet("src") or "")
        # Inside [![alt](src)](href) a second <a> would nest anchors, which HTML forbids: keep the alt.
        inside_link = sum(t.nesting for t in tokens[:idx] if t.type in {"link_open", "link_close"}) > 0
        if src and _is_safe_href(src) and not inside_link:
            return f'<a href="{escapeHtml(src)}" rel="{LINK_REL}">{escapeHtml(alt or src)}</a>'
        return escapeHtml(alt)

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # The default adds class="language-..." from the info string; classes are not allowed.
        return f"<pre><code>{escapeHtml(tokens[idx].content)}</code></pre>\n"

    def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._cell_open(tokens, idx, options, env)

    def td_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._cell_open(tokens, idx, options, env)

    def _cell_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # markdown-it writes alignment as style="text-align:..."; style is banned, align is not.
        token = tokens[idx]
        style = str(token.attrGet("style") or "")
        align = style.removeprefix("text-align:")
        token.attrs = {"align": align} if align in _ALIGNMENTS else {}
        return self.renderToken(tokens, idx, options, env)


class _SafeMarkdownIt(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it-py's name)
        # Stricter than markdown-it's own check (which lets any non-script scheme and data:image through).
        return _is_safe_href(url)


def _build_markdown(light: bool) -> MarkdownIt:
    options = {"html": False, "linkify": True, "breaks": light}
    md = _SafeMarkdownIt("commonmark", options, renderer_cls=_SafeRenderer)
    md.linkify = _BareUrlLinkifier()  # type: ignore[assignment]
    md.enable(["strikethrough", "linkify"])
    if light:
        # Chat keeps inline formatting; block syntax stays as the text the person typed. Indented
        # code and reference definitions would otherwise swallow ordinary chat lines.
        md.disable(["heading", "lheading", "blockquote", "hr", "list", "code", "reference"])
    else:
        md.enable("table")
    return md


def _link_mentions(state) -> None:  # type: ignore[no-untyped-def]
    """Core rule: the resolved mentions in prose (not code, not inside a link) become links to the member's card.
    `state.env["mentions"]` maps a mention's text (lowercased handle or display name) to the member's handle."""
    links: Mapping[str, str] | None = state.env.get("mentions") if isinstance(state.env, dict) else None
    if not links:
        return
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        depth = 0
        for child in token.children:
            depth += 1 if child.type == "link_open" else -1 if child.type == "link_close" else 0
            if child.type == "text" and depth == 0 and "@" in child.content:
                children.extend(_split_mentions(child, links))
            else:
                children.append(child)
        token.children = children


def _split_mentions(child: Token, links: Mapping[str, str]) -> list[Token]:
    out: list[Token] = []
    text, at = child.content, 0
    for start, end, key in _mention_spans(text):
        handle = links.get(key)
        if handle is None or start < at:  # unknown, or this "@" is already linked by a longer candidate
            continue
        if start > at:
            out.append(_text_token(text[at:start], child))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": f"/members/{quote(handle)}"}
        out += [link, _text_token(text[start:end], child), Token("link_close", "a", -1)]
        at = end
    if at < len(text):
        out.append(_text_token(text[at:], child))
    return out


def _text_token(content: str, like: Token) -> Token:
    token = Token("text", "", 0)
    token.content = content
    token.level = like.level
    return token


_FULL_MD = _build_markdown(light=False)
_FULL_MD.core.ruler.push("mentions", _link_mentions)
_LIGHT_MD = _build_markdown(light=True)


# --- sanitizing ----------------------------------------------------------------------------------


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name == "href" or (name == "rel" and value == LINK_REL)
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag in {"th", "td"}:
        return name == "align" and value in _ALIGNMENTS
    return False


# bleach documents Cleaner as not thread-safe (its html5lib parser keeps state between calls), and
# rendering may run in Starlette's thread pool, so each thread builds its own on first use.
_local = threading.local()


def _cleaner() -> Cleaner:
    cleaner: Cleaner | None = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes=_allow_attribute,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,  # drop a disallowed tag but keep its text rather than showing escaped markup
            strip_comments=True,
        )
        _local.cleaner = cleaner
    return cleaner


def _render(md: MarkdownIt, source: str, mentions: Mapping[str, str] | None = None) -> str:
    text = _clean_source(source)
    try:
        return _cleaner().clean(md.render(text, {"mentions": mentions} if mentions else None)).strip()
    except Exception:
        # Never fail a write over formatting: fall back to the escaped text, which is always safe.
        logger.exception("markdown rendering failed; storing escaped text")
        if not text.strip():
            return ""
        return "<p>" + html.escape(text.strip(), quote=False).replace("\n", "<br>") + "</p>"


def render_markdown(source: str, mentions: Mapping[str, str] | None = None) -> str:
    """CommonMark with tables and strikethrough, raw HTML escaped, sanitized against the allowlist.

    `mentions` (platform.mentions.resolve): mention text, lowercased, to a member's handle; those mentions become
    links to /members/<handle> in the stored HTML."""
    return _render(_FULL_MD, source, mentions)


def render_light(source: str) -> str:
    """Inline Markdown for chat: emphasis, code, links, strikethrough; every newline is a line break."""
    return _render(_LIGHT_MD, source)


# --- plain text ----------------------------------------------------------------------------------

_ELLIPSIS = "\u2026"


def _inline_text(children: Sequence[Token], parts: list[str]) -> None:
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            _inline_text(child.children or [], parts)


def _truncate(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: limit - 1]  # leave room for the ellipsis
    if text[limit - 1] != " ":
        # Mid-word: go back to the last space, unless that throws away more than half (one long URL).
        space = cut.rfind(" ")
        if space >= (limit - 1) // 2:
            cut = cut[:space]
    return cut.rstrip(" ,;:-") + _ELLIPSIS


def _plain_of(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            _inline_text(token.children or [], parts)
        elif token.type in {"fence", "code_block"}:
            parts.append(token.content)
        # Every block boundary separates words ("a\n\n# b" must not read "ab").
        parts.append(" ")
    return " ".join("".join(parts).split())


def plain_text(source: str, limit: int | None = None) -> str:
    """The readable text of the Markdown on one line, cut at `limit` characters (ellipsis included).

    The result is text, not HTML: it must be escaped where it is shown (Jinja does).
    """
    text = _clean_source(source)
    try:
        return _truncate(_plain_of(_FULL_MD.parse(text)), limit)
    except Exception:
        logger.exception("markdown parsing failed; using the raw text as plain text")
    return _truncate(" ".join(text.split()), limit)


def render_markdown_and_text(source: str, mentions: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(render_markdown(source, mentions), plain_text(source)) from one parse of the text (a post stores both).
    Linked mentions keep their text, so the plain text is the same with or without them."""
    text = _clean_source(source)
    env = {"mentions": mentions} if mentions else {}
    try:
        tokens = _FULL_MD.parse(text, env)
        plain = _plain_of(tokens)
        return _cleaner().clean(_FULL_MD.renderer.render(tokens, _FULL_MD.options, env)).strip(), plain
    except Exception:  # each with its own fallback
        return render_markdown(source, mentions), plain_text(source)


# --- quoting -------------------------------------------------------------------------------------

# CommonMark lets every ASCII punctuation character be backslash-escaped, so escaping all of them
# makes the label inert without having to know which ones could start markup in this position.
_ASCII_PUNCTUATION_RE = re.compile(r"([!-/:-@\[-`{-~])")


def quote_markdown(author_label: str, source: str) -> str:
    """Markdown for a quote-reply: a bold attribution line, then the source as a block quote."""
    # Collapsing whitespace keeps the label on the attribution line.
    label = " ".join(_clean_source(author_label).split()) or "Someone"
    label = _ASCII_PUNCTUATION_RE.sub(r"\\\1", label)
    lines = _clean_source(source).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    quoted = "".join(f"> {line}\n" if line.strip() else ">\n" for line in lines)
    # The blank line ends the quote, so the reply that follows cannot continue it lazily.
    return f"> **{label} wrote:**\n{quoted}\n"


# --- mentions ------------------------------------------------------------------------------------

# "@" must not follow a word character, dot, slash and the like: that keeps out e-mail addresses
# (a@b.com) and URL paths (https://example.social/@someone).
_MENTION_RE = re.compile(r"(?<![\w@./+:\-])@([A-Za-z0-9_.\-]+)")
_MENTION_MIN, _MENTION_MAX = 2, 30


def _mentions_in(text: str, found: dict[str, None]) -> None:
    for match in _MENTION_RE.finditer(text):
        if text[match.end() : match.end() + 1] == "@":
            continue  # @user@host is an address on some other service
        handle = match.group(1).rstrip(".")  # "thanks @sam." ends a sentence, not a handle
        if _MENTION_MIN <= len(handle) <= _MENTION_MAX:
            found.setdefault(handle.lower(), None)


# A "@Display Name" is up to this many words; each word may end in sentence punctuation.
_NAME_WORDS = 4
_NAME_AFTER_AT_RE = re.compile(r"(?<![\w@./+:\-])@(?=\w)")
_WORD_RE = re.compile(r"[^\s@]+")
_WORD_TRAIL = ".,;:!?)]}\"'’”"


def _name_prefixes(text: str, at: int) -> list[tuple[int, str]]:
    """After the "@" at `at`: (end, words) for the first one to _NAME_WORDS words, punctuation trimmed."""
    found: list[tuple[int, str]] = []
    position = at + 1
    for _ in range(_NAME_WORDS):
        match = _WORD_RE.match(text, position)
        if match is None:
            break
        word = match.group(0)
        trimmed = word.rstrip(_WORD_TRAIL)
        if trimmed:
            end = match.start() + len(trimmed)
            found.append((end, text[at + 1:end]))
        if trimmed != word:
            break  # punctuation ends the name
        position = match.end()
        gap = re.match(r"[ \t]+", text[position:])
        if gap is None or len(gap.group(0)) != 1:
            break  # one space between the words of a name
        position += 1
    return found


def _mention_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of every possible mention in `text`, longest first at each "@": a name of several
    words, then a handle (the key is lowercased). Callers take the first key they know at each start."""
    spans: list[tuple[int, int, str]] = []
    for match in _NAME_AFTER_AT_RE.finditer(text):
        for end, words in reversed(_name_prefixes(text, match.start())):
            spans.append((match.start(), end, " ".join(words.split()).lower()))
        handle = _MENTION_RE.match(text, match.start())
        if handle is not None and text[handle.end():handle.end() + 1] != "@":
            name = handle.group(1).rstrip(".")
            spans.append((match.start(), match.start() + 1 + len(name), name.lower()))
    return spans


def mention_candidates(source: str) -> tuple[list[str], list[str]]:
    """(handles, names): lowercased @handles (extract_mentions) and the "@Display Name" phrases that could be
    names (one to four words after an "@", in prose only), for platform.mentions.resolve to look up at once."""
    if "@" not in source and "&" not in source:  # no "@", not even as an entity: nothing to parse for
        return [], []
    names: dict[str, None] = {}
    try:
        tokens = _FULL_MD.parse(_clean_source(source))
    except Exception:
        logger.exception("markdown parsing failed; no mentions extracted")
        return [], []
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type == "text" and "@" in child.content:
                    for match in _NAME_AFTER_AT_RE.finditer(child.content):
                        for _, words in _name_prefixes(child.content, match.start()):
                            names.setdefault(" ".join(words.split()).lower(), None)
    return extract_mentions(source), list(names)


def extract_mentions(source: str) -> list[str]:
    """Lowercased @handles in order of first appearance, ignoring code, e-mail addresses and URLs."""
    found: dict[str, None] = {}  # an ordered set
    try:
        tokens = _FULL_MD.parse(_clean_source(source))
    except Exception:
        logger.exception("markdown parsing failed; no mentions extracted")
        return []
    for token in tokens:
        # Only prose: code_inline children and fence/code_block tokens are skipped by construction.
        if token.type == "inline":
            for child in token.children or []:
                if child.type == "text":
                    _mentions_in(child.content, found)
    return list(found)
