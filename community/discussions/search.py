"""Full-text search over thread titles and post bodies (PostgreSQL tsvector + GIN), ranked, with snippets.

Hidden, pending and removed content is only found by moderators; nobody else, not even through a title match.
Only the newest CANDIDATES matches are ranked (bounded work at any size). Snippets come from ts_headline,
for the page's rows only, with control-character markers, and are escaped in Python before the markers
become <mark>: a post's text can never turn into markup here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from community.platform.db import custom_plans
from community.platform.errors import Invalid
from community.platform.viewer import Viewer

START, STOP = "\x02", "\x03"
RESULTS_PER_PAGE = 20
MAX_PAGES = 10

# Ranking every match is O(matches): a common word matches a third of a big forum (7.9 s at 1,000,000 posts).
# So only the newest CANDIDATES matching posts (and TITLE_CANDIDATES thread titles) are ranked, and only the
# page's rows get ts_headline. The newest matches are found in two bounded steps:
#   1. walk the newest WINDOW posts by primary key, keeping matches, until CANDIDATES are found (a common word
#      stops here, whatever the planner believes about it);
#   2. only when fewer were found, the newest older matches, at most CANDIDATES of them, by the plan the custom
#      plan picks for these words: the GIN index for rare words, a walk down the primary key for common ones.
# Step 2 once read every older match before keeping the newest. A quoted phrase of common words then read a
# quarter of the table (340-430 ms at 1,000,000 posts; 13-16 ms with the limit). A search that still cannot
# finish is stopped by db.custom_plans' time limit.
# Older matches of common words appear when a more specific query makes them the newest.
# At 1,000,000 posts, WINDOW 10,000 -> 2,000 took a word found nowhere from 5.7 to 2.3 ms, with common words
# unchanged (2.3 ms).
CANDIDATES = 400
TITLE_CANDIDATES = 100
WINDOW = 2_000

_SEARCH_SQL = """
WITH recent AS MATERIALIZED (
  SELECT id, thread_id, search FROM (SELECT id, thread_id, search, state FROM posts ORDER BY id DESC LIMIT $4::int) w
  WHERE search @@ websearch_to_tsquery('english', $1::text) {post_visible}
  ORDER BY id DESC LIMIT $2::int
), older AS MATERIALIZED (
  SELECT id, thread_id, search FROM posts
  WHERE (SELECT count(*) FROM recent) < $2::int
    AND id < (SELECT id FROM posts ORDER BY id DESC OFFSET $4::int - 1 LIMIT 1)
    AND search @@ websearch_to_tsquery('english', $1::text) {post_visible}
  ORDER BY id DESC LIMIT $2::int
), recent_titles AS MATERIALIZED (
  SELECT id, first_post_id, search FROM (SELECT id, first_post_id, search, state FROM threads
                                         ORDER BY id DESC LIMIT $4::int) w
  WHERE search @@ websearch_to_tsquery('english', $1::text) AND first_post_id IS NOT NULL {thread_visible}
  ORDER BY id DESC LIMIT $3::int
), older_titles AS MATERIALIZED (
  SELECT id, first_post_id, search FROM threads
  WHERE (SELECT count(*) FROM recent_titles) < $3::int
    AND search @@ websearch_to_tsquery('english', $1::text) AND first_post_id IS NOT NULL {thread_visible}
    -- Past the titles already found, not below an id floor as for posts: with a floor the planner ANDed the GIN
    -- bitmap with a primary-key range of most of the threads (2 ms at 20,000 threads).
    AND id NOT IN (SELECT id FROM recent_titles)
  ORDER BY id DESC LIMIT $3::int
), hits AS (
  SELECT p.id AS post_id, p.thread_id, ts_rank(p.search, websearch_to_tsquery('english', $1::text)) AS rank,
         true AS post_ok, NULL::boolean AS thread_ok
  FROM (SELECT * FROM recent UNION ALL SELECT * FROM older ORDER BY id DESC LIMIT $2::int) p
  UNION ALL
  SELECT t.first_post_id, t.id, ts_rank(t.search, websearch_to_tsquery('english', $1::text)) * 2, NULL, true
  FROM (SELECT * FROM recent_titles UNION ALL SELECT * FROM older_titles ORDER BY id DESC LIMIT $3::int) t
), best AS (
  SELECT post_id, thread_id, sum(rank) AS rank, bool_or(post_ok) AS post_ok, bool_or(thread_ok) AS thread_ok
  FROM hits GROUP BY post_id, thread_id
), top AS (
  SELECT best.post_id, best.rank FROM best
  {both_visible}
  ORDER BY best.rank DESC, best.post_id DESC
  LIMIT $5::int OFFSET $6::int
)
SELECT p.id, p.position, p.thread_id, p.created_at, t.title, c.name AS category_name, c.slug AS category_slug,
       coalesce(u.display_name, 'Community team') AS author_name, top.rank,
       ts_headline('english', t.title, websearch_to_tsquery('english', $1::text),
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', HighlightAll=true') AS title_hl,
       ts_headline('english', p.body_text, websearch_to_tsquery('english', $1::text),
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=35, MinWords=15, MaxFragments=2')
         AS snippet
FROM top JOIN posts p ON p.id = top.post_id JOIN threads t ON t.id = p.thread_id
JOIN categories c ON c.id = t.category_id LEFT JOIN users u ON u.id = p.author_id
ORDER BY top.rank DESC, p.id DESC
"""
# Members find visible posts in visible threads; moderators find everything. A post hit is known to be visible
# and a title hit to be in a visible thread, so only the other half is looked up: not by reading each hit's row
# (400 look-ups into the threads' heap for a common word, ~0.5 ms of a 2.5 ms search at 1,000,000 posts) but by
# asking the partial indexes of what members may not see (migration 0029), which hold few entries and mostly
# answer without a heap visit. Every post has its thread and every title hit its first post, so "not among the
# hidden" is "visible" here.
_MEMBERS_ONLY = """WHERE (best.post_ok
           OR NOT EXISTS (SELECT 1 FROM posts v WHERE v.id = best.post_id AND v.state <> 'visible'))
    AND (best.thread_ok
         OR NOT EXISTS (SELECT 1 FROM threads v WHERE v.id = best.thread_id AND v.state <> 'visible'))"""
SEARCH_SQL = {
    False: _SEARCH_SQL.format(post_visible="AND state = 'visible'", thread_visible="AND state = 'visible'",
                              both_visible=_MEMBERS_ONLY),
    True: _SEARCH_SQL.format(post_visible="", thread_visible="", both_visible=""),
}


def marked(value: str | None) -> Markup:
    """Escapes everything, then turns only our own markers into <mark>."""
    safe = str(escape(value or ""))
    return Markup(safe.replace(START, "<mark>").replace(STOP, "</mark>"))


@dataclass
class SearchResults:
    query: str
    results: list[dict]
    page: int
    has_more: bool


def check_query(value: str) -> str:
    # Control characters (NUL above all: PostgreSQL refuses it) and lone surrogates carry no meaning here.
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cs"))
    value = " ".join(value.split())
    if len(value) > 200:
        raise Invalid(fields={"q": "Please use at most 200 characters."})
    return value.replace(START, "").replace(STOP, "")


async def search(connection: Any, viewer: Viewer, query: str, page: int = 1) -> SearchResults:
    """`connection`: a raw asyncpg connection (Database.raw). One prepared statement, in a transaction of its own
    that plans it with the real words (db.custom_plans: a generic plan's wrong guess costs seconds at 1M posts)."""
    query = check_query(query)
    page = min(max(1, page), MAX_PAGES)
    if not query:
        return SearchResults(query, [], page, False)
    async with custom_plans(connection):
        rows = await connection.fetch(SEARCH_SQL[viewer.is_moderator], query, CANDIDATES, TITLE_CANDIDATES, WINDOW,
                                      RESULTS_PER_PAGE + 1, (page - 1) * RESULTS_PER_PAGE)
    results = []
    for row in rows:
        item = dict(row)
        item["title_html"] = marked(item.pop("title_hl"))
        item["snippet_html"] = marked(item.pop("snippet"))
        results.append(item)
    has_more = len(results) > RESULTS_PER_PAGE and page < MAX_PAGES
    return SearchResults(query, results[:RESULTS_PER_PAGE], page, has_more)
