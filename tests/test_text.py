"""Tests for community.text: Markdown rendering, sanitizing, plain text, quoting and mentions."""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from community.platform import text
from community.platform.text import (
    extract_mentions,
    plain_text,
    quote_markdown,
    render_light,
    render_markdown,
)

REL = "nofollow noopener ugc"
ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
PAYLOADS_FILE = Path(__file__).parent / "data" / "xss_payloads.txt"
_ESCAPE_RE = re.compile(r"\\(n|t|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})")


# --- helpers -------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Records every element and attribute the browser-side parser would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.declarations: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def unknown_decl(self, data: str) -> None:
        self.declarations.append(data)

    def handle_pi(self, data: str) -> None:
        self.declarations.append(data)


def parse(output: str) -> _Collector:
    collector = _Collector()
    collector.feed(output)
    collector.close()
    return collector


def anchors(output: str) -> list[dict[str, str | None]]:
    return [dict(attrs) for tag, attrs in parse(output).elements if tag == "a"]


def href_is_safe(href: str) -> bool:
    # html.parser has already decoded entities once; decode again as a paranoid reader would, then
    # drop what browsers ignore inside a URL.
    normalized = re.sub(r"[\x00-\x20\x7f-\xa0\s]+", "", html.unescape(href)).lower()
    parts = urlsplit(normalized)
    if parts.scheme:
        return parts.scheme in {"http", "https", "mailto"}
    # Relative means same site: no "//host" (or "\\host") that only looks relative.
    return not parts.netloc and not normalized.startswith(("\\\\", "/\\", "\\/"))


def assert_safe_html(output: str) -> None:
    document = parse(output)
    assert not document.comments, output
    assert not document.declarations, output
    for tag, attrs in document.elements:
        assert tag in ALLOWED_TAGS, (tag, output)
        names = [name for name, _ in attrs]
        for name, value in attrs:
            assert not name.startswith("on"), (name, output)
            assert name != "style", output
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, output)
            if name == "href":
                assert value is not None and href_is_safe(value), (value, output)
        if tag == "a":
            assert dict(attrs).get("rel") == REL, output
            assert "href" in names, output
    lowered = output.lower()
    for banned in ("<script", "<iframe", "<img", "<svg", "<math", "<style", "<object", "<embed", "<meta"):
        assert banned not in lowered, (banned, output)


def load_payloads() -> list[str]:
    payloads = []
    for line in PAYLOADS_FILE.read_text(encoding="utf-8").split("\n"):
        if not line or line.startswith("#"):
            continue
        payloads.append(_ESCAPE_RE.sub(lambda m: _decode_escape(m.group(1)), line))
    return payloads


def _decode_escape(escape: str) -> str:
    if escape == "n":
        return "\n"
    if escape == "t":
        return "\t"
    return chr(int(escape[1:], 16))


PAYLOADS = load_payloads()


# --- the XSS corpus ------------------------------------------------------------------------------


def test_corpus_is_large_enough() -> None:
    assert len(PAYLOADS) >= 120
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    assert any("\n" in p for p in PAYLOADS) and any("\x00" in p for p in PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize("render", [render_markdown, render_light], ids=["markdown", "light"])
def test_payload_renders_to_safe_html(render, payload: str) -> None:
    assert_safe_html(render(payload))


@pytest.mark.parametrize("payload", PAYLOADS[::7])
def test_payload_outputs_are_stable(payload: str) -> None:
    assert render_markdown(payload) == render_markdown(payload)
    assert render_light(payload) == render_light(payload)


def test_checker_catches_unsafe_html() -> None:
    # The corpus test is only as good as assert_safe_html: make sure it actually fails on bad HTML.
    bad = [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)" rel="nofollow noopener ugc">x</a>',
        '<a href="jav&#x09;ascript:alert(1)" rel="nofollow noopener ugc">x</a>',
        '<a href="&amp;#106;avascript:alert(1)" rel="nofollow noopener ugc">x</a>',
        '<a href="//evil.example" rel="nofollow noopener ugc">x</a>',
        '<a href="https://ok.example">no rel</a>',
        '<p onclick="x">x</p>',
        '<p style="color:red">x</p>',
        '<img src="https://ok.example/a.png">',
        "<h1>x</h1>",
        "<!-- x -->",
    ]
    for output in bad:
        with pytest.raises(AssertionError):
            assert_safe_html(output)


# --- render_markdown -----------------------------------------------------------------------------


def test_basic_commonmark() -> None:
    out = render_markdown("Hello *world* and **bold** and `code`.\n\n- a\n- b\n\n> quoted")
    assert "<p>Hello <em>world</em> and <strong>bold</strong> and <code>code</code>.</p>" in out
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in out
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in out


@pytest.mark.parametrize(
    ("source", "tag"),
    [("# a", "h3"), ("## a", "h4"), ("### a", "h5"), ("#### a", "h6"), ("##### a", "h6"),
     ("###### a", "h6"), ("a\n===", "h3"), ("a\n---", "h4")],
)
def test_headings_shift_down_two_levels(source: str, tag: str) -> None:
    assert render_markdown(source) == f"<{tag}>a</{tag}>"


def test_raw_html_is_escaped_not_rendered() -> None:
    out = render_markdown('<b>bold</b> <div class="x">block</div>')
    assert "&lt;b&gt;bold&lt;/b&gt;" in out
    assert "<b>" not in out and "<div" not in out


def test_raw_html_block_is_escaped() -> None:
    assert render_markdown("<div>\nhello\n</div>") == "<p>&lt;div&gt;\nhello\n&lt;/div&gt;</p>"


def test_strikethrough() -> None:
    assert render_markdown("~~gone~~") == "<p><s>gone</s></p>"


def test_table_with_alignment() -> None:
    out = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n| x | y |")
    assert_safe_html(out)
    assert '<th align="left">a</th>' in out
    assert '<th align="center">b</th>' in out
    assert '<td align="right">3</td>' in out
    assert "<thead>" in out and "<tbody>" in out
    assert "style" not in out


def test_table_without_alignment_has_no_attributes() -> None:
    out = render_markdown("| a |\n|---|\n| 1 |")
    assert "<th>a</th>" in out and "<td>1</td>" in out


def test_ordered_list_start_is_kept() -> None:
    assert render_markdown("3. three\n4. four").startswith('<ol start="3">')
    assert render_markdown("1. one").startswith("<ol>")


def test_fenced_code_has_no_class_and_is_escaped() -> None:
    out = render_markdown('```python onload=x\nprint("<b>")\n```')
    assert out == "<pre><code>print(&quot;&lt;b&gt;&quot;)\n</code></pre>"


def test_indented_code_block() -> None:
    assert render_markdown("    x = <1>") == "<pre><code>x = &lt;1&gt;\n</code></pre>"


def test_horizontal_rule() -> None:
    assert render_markdown("a\n\n***\n\nb") == "<p>a</p>\n<hr>\n<p>b</p>"


def test_links_get_rel_and_lose_title() -> None:
    out = render_markdown('[site](https://example.com "A title")')
    assert out == f'<p><a href="https://example.com" rel="{REL}">site</a></p>'


@pytest.mark.parametrize(
    "href",
    ["https://example.com/a?b=1#c", "http://example.com", "mailto:someone@example.com", "/thread/12", "#reply-4",
     "relative/path", "?page=2"],
)
def test_allowed_link_targets(href: str) -> None:
    links = anchors(render_markdown(f"[x]({href})"))
    assert len(links) == 1
    assert links[0]["rel"] == REL
    assert links[0]["href"]


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](<java\tscript:alert(1)>)",
        "[x](java\x00script:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](data:image/png;base64,AAAA)",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.com/file)",
        "[x](tel:988)",
        "[x](//evil.example/)",
        "[x](<//evil.example>)",
        "[x](%6Aavascript:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
    ],
)
def test_disallowed_link_targets_are_not_links(source: str) -> None:
    out = render_markdown(source)
    assert anchors(out) == [], out
    assert_safe_html(out)


def test_backslash_hosts_stay_on_site() -> None:
    # Browsers read "\\host" and "/\host" as "//host"; markdown-it percent-encodes the backslash.
    for source in ("[x](/\\evil.example)", "[x](\\\\evil.example)"):
        for link in anchors(render_markdown(source)):
            assert "\\" not in str(link["href"]) and href_is_safe(str(link["href"])), link


def test_autolinks() -> None:
    out = render_markdown("<https://example.com/x> and <someone@example.com>")
    assert anchors(out) == [
        {"href": "https://example.com/x", "rel": REL},
        {"href": "mailto:someone@example.com", "rel": REL},
    ]


def test_reference_links() -> None:
    out = render_markdown("See [the guide][g].\n\n[g]: https://example.com/guide 'Guide'")
    assert anchors(out) == [{"href": "https://example.com/guide", "rel": REL}]


def test_image_becomes_link_with_alt_text() -> None:
    out = render_markdown("![an *x-ray*](https://example.com/xray.png)")
    assert out == f'<p><a href="https://example.com/xray.png" rel="{REL}">an x-ray</a></p>'


def test_image_without_alt_shows_url() -> None:
    out = render_markdown("![](https://example.com/a.png)")
    assert out == f'<p><a href="https://example.com/a.png" rel="{REL}">https://example.com/a.png</a></p>'


def test_image_with_unsafe_url_is_not_a_link() -> None:
    for source in ("![alt](javascript:alert(1))", "![alt](//evil.example/a.png)", "![alt](data:image/png;base64,AA)"):
        out = render_markdown(source)
        assert anchors(out) == [] and "<img" not in out, out


def test_image_inside_link_does_not_nest_anchors() -> None:
    out = render_markdown("[![badge](https://example.com/b.png)](https://example.com/)")
    assert out == f'<p><a href="https://example.com/" rel="{REL}">badge</a></p>'


def test_bare_urls_are_linked() -> None:
    out = render_markdown("See https://example.com/a_(b) and www.example.org, or http://x.example/y.")
    assert anchors(out) == [
        {"href": "https://example.com/a_(b)", "rel": REL},
        {"href": "http://www.example.org", "rel": REL},
        {"href": "http://x.example/y", "rel": REL},
    ]
    assert ">www.example.org</a>," in out
    assert ">http://x.example/y</a>.</p>" in out


def test_bare_url_edges() -> None:
    assert anchors(render_markdown("(https://example.com/x)")) == [{"href": "https://example.com/x", "rel": REL}]
    assert anchors(render_markdown("**https://example.com**")) == [{"href": "https://example.com", "rel": REL}]
    # Not links: inside code, glued to a word, e-mail-ish, scheme only.
    for source in ("`https://example.com`", "xhttps://example.com", "me@www.example.com", "http://", "www.",
                   "    https://example.com", "javascript://example.com/%0aalert(1)"):
        assert anchors(render_markdown(source)) == [], source


def test_bare_url_inside_link_text_is_not_linked_again() -> None:
    out = render_markdown("[see https://a.example](https://b.example)")
    assert anchors(out) == [{"href": "https://b.example", "rel": REL}]


def test_control_characters_are_removed() -> None:
    assert render_markdown("a\x00b\x01c\x07d\x1be\x7ff\tg") == "<p>abcdef\tg</p>"
    assert render_markdown("one\r\ntwo\rthree") == "<p>one\ntwo\nthree</p>"


def test_lone_surrogates_become_replacement_characters() -> None:
    out = render_markdown("a\ud800b")
    assert out == "<p>a\ufffdb</p>"
    out.encode("utf-8")


@pytest.mark.parametrize(
    "source",
    ["", " ", "\n\n\n", "\x00", "*" * 10_000, "[" * 2000, "> " * 2000 + "x", "- " * 500 + "x", "`" * 3001,
     "|a|\n|-|\n" + "|b|\n" * 200, "\ud83d", "\U0001f600 emoji", "&#0; &#xD800; &#99999999;", "\\" * 999,
     "![" * 500, "<" * 1000, "a\n" * 2000],
)
def test_never_raises_and_stays_safe(source: str) -> None:
    for render in (render_markdown, render_light):
        out = render(source)
        assert isinstance(out, str)
        assert_safe_html(out)
    assert isinstance(plain_text(source, 50), str)
    assert isinstance(extract_mentions(source), list)
    assert isinstance(quote_markdown(source, source), str)


def test_empty_input_renders_empty() -> None:
    assert render_markdown("") == ""
    assert render_light("   \n ") == ""


def test_non_str_input_does_not_raise() -> None:
    assert render_markdown(None) == ""  # type: ignore[arg-type]
    assert plain_text(None) == ""  # type: ignore[arg-type]
    assert extract_mentions(None) == []  # type: ignore[arg-type]


def test_rendering_failure_falls_back_to_escaped_text(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def render(self, source: str) -> str:
            raise RuntimeError("boom")

    monkeypatch.setattr(text, "_FULL_MD", Broken())
    out = render_markdown("<script>x</script>\n*hi*")
    assert out == "<p>&lt;script&gt;x&lt;/script&gt;<br>*hi*</p>"
    assert_safe_html(out)


def test_deterministic() -> None:
    source = "# T\n\nSome https://example.com text with ![i](https://e.example/i.png) and | table |\n|---|\n| x |"
    assert len({render_markdown(source) for _ in range(5)}) == 1


def test_threads_get_the_same_result() -> None:
    sources = [f"**{i}** [l](https://example.com/{i}) <b>{i}</b>\n\n| a |\n|---|\n| {i} |" for i in range(64)]
    expected = [render_markdown(s) for s in sources]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(render_markdown, sources)) == expected


# --- render_light --------------------------------------------------------------------------------


def test_light_inline_formatting() -> None:
    out = render_light("*em* **strong** `code` ~~gone~~ [link](https://example.com)")
    assert out == (
        f'<p><em>em</em> <strong>strong</strong> <code>code</code> <s>gone</s> '
        f'<a href="https://example.com" rel="{REL}">link</a></p>'
    )


def test_light_newlines_are_line_breaks() -> None:
    assert render_light("one\ntwo") == "<p>one<br>\ntwo</p>"
    assert render_light("one\n\ntwo") == "<p>one</p>\n<p>two</p>"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# not a heading", "<p># not a heading</p>"),
        ("title\n===", "<p>title<br>\n===</p>"),
        ("> not a quote", "<p>&gt; not a quote</p>"),
        ("- not a list", "<p>- not a list</p>"),
        ("1. not a list", "<p>1. not a list</p>"),
        ("---", "<p>---</p>"),
        ("    not code", "<p>not code</p>"),
        ("| a |\n|---|\n| b |", "<p>| a |<br>\n|---|<br>\n| b |</p>"),
        ("[a]: https://example.com", f'<p>[a]: <a href="https://example.com" rel="{REL}">https://example.com</a></p>'),
    ],
)
def test_light_block_syntax_stays_text(source: str, expected: str) -> None:
    assert render_light(source) == expected


def test_light_images_become_links() -> None:
    assert anchors(render_light("![scan](https://example.com/s.png)")) == [
        {"href": "https://example.com/s.png", "rel": REL}
    ]
    assert "<img" not in render_light("![scan](https://example.com/s.png)")


def test_light_links_are_sanitized() -> None:
    assert anchors(render_light("[x](javascript:alert(1)) <javascript:alert(1)>")) == []
    assert anchors(render_light("see https://example.com")) == [{"href": "https://example.com", "rel": REL}]


def test_light_raw_html_is_escaped() -> None:
    assert render_light("<i>hi</i>") == "<p>&lt;i&gt;hi&lt;/i&gt;</p>"


# --- plain_text ----------------------------------------------------------------------------------


def test_plain_text_strips_markdown() -> None:
    source = "# Title\n\nSome *emphasis*, a [link](https://example.com) and `code`.\n\n- one\n- two\n\n> quoted"
    assert plain_text(source) == "Title Some emphasis, a link and code. one two quoted"


def test_plain_text_keeps_raw_html_as_text_and_decodes_entities() -> None:
    assert plain_text("<b>x</b> &amp; &copy;") == "<b>x</b> & \u00a9"


def test_plain_text_images_tables_and_code() -> None:
    source = "![alt text](https://e.example/a.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx = 1\n```"
    assert plain_text(source) == "alt text a b 1 2 x = 1"


def test_plain_text_collapses_whitespace() -> None:
    assert plain_text("  a\t\tb\n\n\n c  ") == "a b c"


def test_plain_text_removes_control_characters() -> None:
    assert plain_text("a\x00b\x1bc") == "abc"


def test_plain_text_limit_cuts_at_word_boundary() -> None:
    source = "The quick brown fox jumps over the lazy dog"
    assert plain_text(source, 100) == source
    assert plain_text(source, len(source)) == source
    assert plain_text(source, 20) == "The quick brown fox\u2026"
    assert plain_text(source, 18) == "The quick brown\u2026"
    for limit in range(1, len(source)):
        cut = plain_text(source, limit)
        assert len(cut) <= limit and cut.endswith("\u2026")


def test_plain_text_limit_hard_cuts_one_long_word() -> None:
    url = "https://example.com/" + "a" * 80
    assert plain_text(url, 30) == url[:29] + "\u2026"


def test_plain_text_limit_drops_trailing_punctuation() -> None:
    assert plain_text("Hello, world and more", 8) == "Hello\u2026"


def test_plain_text_limit_edges() -> None:
    assert plain_text("abc", 0) == ""
    assert plain_text("abc", -5) == ""
    assert plain_text("abcdef", 1) == "\u2026"
    assert plain_text("", 10) == ""
    assert plain_text("**bold**", None) == "bold"


# --- quote_markdown ------------------------------------------------------------------------------


def test_quote_format() -> None:
    assert quote_markdown("Dr Lee", "line one\nline two") == "> **Dr Lee wrote:**\n> line one\n> line two\n\n"


def test_quote_trims_blank_edges_and_keeps_inner_blank_lines() -> None:
    assert quote_markdown("A", "\n\nfirst\n\nsecond\n\n") == "> **A wrote:**\n> first\n>\n> second\n\n"


def test_quote_normalises_newlines_and_controls() -> None:
    assert quote_markdown("A\x00B", "x\r\ny") == "> **AB wrote:**\n> x\n> y\n\n"


def test_quote_empty_source_and_label() -> None:
    assert quote_markdown("", "") == "> **Someone wrote:**\n\n"


def test_quote_label_cannot_inject_markdown() -> None:
    label = "*Dr* [x](javascript:alert(1)) <b> `c` # _u_ ~~s~~ ![i](https://e.example/i.png) \\ &amp;"
    quoted = quote_markdown(label, "body")
    out = render_markdown(quoted)
    assert_safe_html(out)
    assert anchors(out) == []
    for tag in ("<em>", "<code>", "<s>", "<h"):
        assert tag not in out.replace("<strong>", ""), out
    assert plain_text(quoted).startswith(label + " wrote:")


def test_quote_label_newline_stays_on_one_line() -> None:
    quoted = quote_markdown("Evil\n\n# Heading\n>", "body")
    assert quoted.startswith("> **Evil \\# Heading \\> wrote:**\n> body")
    out = render_markdown(quoted)
    assert out.count("<blockquote>") == 1 and "<h3>" not in out


def test_quote_renders_as_block_quote_followed_by_reply() -> None:
    out = render_markdown(quote_markdown("Sam", "original *text*\nmore") + "my reply")
    assert out == (
        "<blockquote>\n<p><strong>Sam wrote:</strong>\noriginal <em>text</em>\nmore</p>\n</blockquote>\n"
        "<p>my reply</p>"
    )


def test_quote_of_a_quote_nests() -> None:
    out = render_markdown(quote_markdown("B", quote_markdown("A", "deep")))
    assert out.count("<blockquote>") == 2


# --- extract_mentions ----------------------------------------------------------------------------


def test_mentions_in_order_unique_lowercased() -> None:
    assert extract_mentions("Hi @Alice, @bob and @ALICE again; cc @carol_2.") == ["alice", "bob", "carol_2"]


def test_mentions_allow_dot_and_hyphen() -> None:
    assert extract_mentions("@dr.lee-smith and @a_b") == ["dr.lee-smith", "a_b"]


def test_mentions_length_limits() -> None:
    assert extract_mentions("@a @ab") == ["ab"]
    assert extract_mentions("@" + "x" * 30) == ["x" * 30]
    assert extract_mentions("@" + "x" * 31) == []


def test_mentions_skip_code() -> None:
    source = "`@inline` and\n\n```\n@fenced\n```\n\n    @indented\n\nbut @real"
    assert extract_mentions(source) == ["real"]


def test_mentions_skip_emails_and_urls() -> None:
    source = "mail a@b.com or first.last@example.org, see https://social.example/@someone and @user@host.example"
    assert extract_mentions(source) == []


def test_mentions_in_formatting_and_links_count() -> None:
    assert extract_mentions("**@bold** _@em_ [@linked](https://example.com) (@paren)") == [
        "bold", "em", "linked", "paren",
    ]


def test_mentions_after_punctuation_and_at_line_start() -> None:
    assert extract_mentions("@first\n@second:(@third) hi!@fourth") == ["first", "second", "third", "fourth"]


def test_mentions_none() -> None:
    assert extract_mentions("") == []
    assert extract_mentions("@ @@ @. email@") == []
