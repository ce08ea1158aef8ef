"""Full-text search over thread titles and post bodies (PostgreSQL tsvector + GIN), ranked, with snippets.

Hidden, pending and removed content is only found by moderators; nobody else, not even through a title match.
Snippets come from ts_headline with control-character markers, and are escaped in Python before the markers
become <mark>: a post's text can never turn into markup here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from community.errors import Invalid
from community.viewer import Viewer

START, STOP = "\x02", "\x03"
RESULTS_PER_PAGE = 20
MAX_PAGES = 10

_SEARCH = text("""
WITH q AS (SELECT websearch_to_tsquery('english', :q) AS query),
hits AS (
  SELECT p.id AS post_id, ts_rank(p.search, q.query) AS rank
  FROM posts p, q WHERE p.search @@ q.query AND (p.state = 'visible' OR :staff)
  UNION ALL
  SELECT t.first_post_id, ts_rank(t.search, q.query) * 2 FROM threads t, q
  WHERE t.search @@ q.query AND (t.state = 'visible' OR :staff) AND t.first_post_id IS NOT NULL
), best AS (
  SELECT post_id, sum(rank) AS rank FROM hits GROUP BY post_id
)
SELECT p.id, p.position, p.thread_id, p.created_at, t.title, c.name AS category_name, c.slug AS category_slug,
       coalesce(u.display_name, 'Community team') AS author_name, best.rank,
       ts_headline('english', t.title, q.query,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', HighlightAll=true') AS title_hl,
       ts_headline('english', p.body_text, q.query,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=35, MinWords=15, MaxFragments=2')
         AS snippet
FROM best JOIN posts p ON p.id = best.post_id JOIN threads t ON t.id = p.thread_id
JOIN categories c ON c.id = t.category_id LEFT JOIN users u ON u.id = p.author_id, q
WHERE (p.state = 'visible' AND t.state = 'visible') OR :staff
ORDER BY best.rank DESC, p.id DESC
LIMIT :limit OFFSET :offset
""")


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


async def search(session: AsyncSession, viewer: Viewer, query: str, page: int = 1) -> SearchResults:
    query = check_query(query)
    page = min(max(1, page), MAX_PAGES)
    if not query:
        return SearchResults(query, [], page, False)
    rows = (await session.execute(_SEARCH, {"q": query, "staff": viewer.is_moderator,
                                            "limit": RESULTS_PER_PAGE + 1,
                                            "offset": (page - 1) * RESULTS_PER_PAGE})).mappings()
    results = []
    for row in rows:
        item = dict(row)
        item["title_html"] = marked(item.pop("title_hl"))
        item["snippet_html"] = marked(item.pop("snippet"))
        results.append(item)
    has_more = len(results) > RESULTS_PER_PAGE and page < MAX_PAGES
    return SearchResults(query, results[:RESULTS_PER_PAGE], page, has_more)
