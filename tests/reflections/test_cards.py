"""Reflection cards rendered in Python (reflections.web.cards): what each page shows, and only members' text is
escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from community.reflections.actions import Card
from community.reflections.web.cards import render_card, render_cards


def _card(**fields) -> Card:
    base = dict(id=42, title="Night <b>float</b>", excerpt="I sat & waited <script>alert(1)</script>", body_html="",
                visibility="anonymous", state="visible", author_name=None, theme=None, prompt_id=None,
                prompt_title=None, created_at=datetime(2026, 1, 2, tzinfo=UTC), replies=1,
                reactions={"thanks": 2, "helped": 1})
    return Card(**{**base, **fields})


def test_wall_card_shows_byline_and_counts_with_members_text_escaped():
    html = render_card(_card(), heading="h3", when="this week")
    assert '<h3 id="r-42-title" class="reflection-title"><a href="/reflections/42">Night &lt;b&gt;float&lt;/b&gt;</a>' in html
    assert "I sat &amp; waited &lt;script&gt;" in html and "<script>" not in html
    assert '<span class="byline">Anonymous</span>' in html and '<span class="when">this week</span>' in html
    assert "1 reply · 2 thank you · 1 this helped" in html
    assert "tag-anonymous" not in html  # the writer's own view names the visibility, the wall does not


def test_named_card_names_its_writer_and_a_former_member():
    assert '<span class="byline">Ada &lt;Lovelace&gt;</span>' in render_card(
        _card(visibility="named", author_name="Ada <Lovelace>"), heading="h3", when="today")
    assert "Former member" in render_card(_card(visibility="named"), heading="h3", when="today")


def test_journal_card_names_visibility_and_moderation_and_no_counts():
    html = render_card(_card(visibility="private", state="hidden", theme="hidden-curriculum",
                             prompt_title="What did you <carry>?", title=None, replies=3),
                       heading="h2", when="today", journal=True)
    assert '<span class="tag tag-private">Private</span><span class="tag tag-warn">hidden by a moderator</span>' in html
    assert "Untitled reflection" in html and "Answering: What did you &lt;carry&gt;?" in html
    assert "byline" not in html and "replies" not in html and "thank you" not in html
    assert '<span class="theme">The hidden curriculum</span>' in html


def test_cards_join_in_order_and_headings_are_checked():
    html = render_cards([(_card(id=1), "today"), (_card(id=2), "today")], heading="h2")
    assert html.index('id="r-1-title"') < html.index('id="r-2-title"')
    with pytest.raises(ValueError):
        render_card(_card(), heading="h1><script>", when="today")
