"""web.fragments: both LRUs stay within their bounds, and whole pages never crowd out list items."""

import pytest
from jinja2 import Environment, UndefinedError

from community.platform.web import fragments


class _Template:
    def render(self, context: dict) -> str:
        return f"<li>{context['n']}</li>"


def test_items_and_pages_are_bounded_separately(monkeypatch) -> None:
    monkeypatch.setattr(fragments, "MAX_ENTRIES", 5)
    monkeypatch.setattr(fragments, "MAX_PAGES", 2)
    fragments.clear()
    template = _Template()
    try:
        for n in range(8):
            assert fragments.render(template, ("item", n), lambda n=n: {"n": n}) == f"<li>{n}</li>"
        for n in range(4):
            fragments.store(template, ("page", n), "x" * 70_000, page=True)
        assert len(fragments._cache) == 5 and len(fragments._pages) == 2
        assert fragments.cached(template, ("page", 3), page=True) is not None
        assert fragments.cached(template, ("page", 0), page=True) is None  # the oldest page went first
        assert fragments.cached(template, ("item", 7)) == "<li>7</li>"  # pages did not push items out
        assert fragments.cached(template, ("page", 3)) is None  # and the two never mix
    finally:
        fragments.clear()


def test_the_csrf_marker_is_replaced_escaped() -> None:
    html = f'<input name="csrf_token" value="{fragments.CSRF_MARK}">'
    assert fragments.with_csrf(html, 'a"b') == '<input name="csrf_token" value="a&#34;b">'


def test_spliced_html_is_encoded_once_and_joined_with_each_requests_token() -> None:
    mark = fragments.CSRF_MARK
    spliced = fragments.Spliced.from_html(f'<p>Café — “kept”</p><input value="{mark}"><input value="{mark}">')
    page = f"<main>· {spliced.__html__()} ·</main>".encode()
    body = fragments.splice(page, [spliced], 'tok"1')
    assert body.decode() == ('<main>· <p>Café — “kept”</p><input value="tok&#34;1"><input value="tok&#34;1"> ·'
                             '</main>')
    other = fragments.splice(page, [spliced], "tok2")  # the same cached value, another browser
    assert other.decode().count('value="tok2"') == 2 and "tok&#34;1" not in other.decode()
    assert not fragments.Spliced((b"",)) and fragments.Spliced((b"<li>",))


def test_items_are_joined_encoded() -> None:
    fragments.clear()
    try:
        template = Environment(autoescape=True).from_string("<li>{{ n }}</li>")
        items = fragments.render_items(template, [(("n", n), {"n": n}) for n in ("é", "b")])
        assert items.encoded("unused") == "<li>é</li><li>b</li>".encode()
        # A second call renders only what the first did not see, in its place.
        items = fragments.render_items(template, [(("n", n), {"n": n}) for n in ("b", "<c>", "é")])
        assert items.encoded("unused") == "<li>b</li><li>&lt;c&gt;</li><li>é</li>".encode()
    finally:
        fragments.clear()


def test_render_each_gives_what_render_gives_each_starting_afresh() -> None:
    env = Environment(autoescape=True)
    env.globals["site"] = "S"
    # A top-level {% set %} lands in the context's vars: the next item must not see the previous item's.
    template = env.from_string("{% if n == 1 %}{% set extra = 'x' %}{% endif %}{{ site }}{{ n }}{{ extra }}"
                               "{{ who | default('-') }};")
    contexts = [{"n": 1}, {"n": 2, "who": "<b>"}, {"n": 3}]
    assert list(fragments.render_each(template, contexts)) == [template.render(c) for c in contexts]
    assert list(fragments.render_each(template, [])) == []


def test_render_each_raises_the_templates_error() -> None:
    template = Environment().from_string("{{ n.missing.deeper }}")
    with pytest.raises(UndefinedError):
        list(fragments.render_each(template, [{"n": {}}]))
