"""Safety screening for every writing surface: crisis language and likely patient identifiers.

Call `screen(text)` before publishing. Shared content with findings needs the writer's confirmation first
(`needs_confirmation`); after publishing, `record_shared` queues what moderators must see. Private writing is
screened only to show the writer resources: nothing about it is ever reported.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.review import items as review
from community.platform.safety import CrisisResult, Finding, detect_crisis, find_identifiers, highlight
from community.platform.safety.phi import STRONG


@dataclass
class Screening:
    text: str
    crisis: CrisisResult
    findings: list[Finding] = field(default_factory=list)

    @property
    def crisis_fired(self) -> bool:
        return self.crisis.fired

    @property
    def strong_findings(self) -> list[Finding]:
        """MRNs, SSNs, phone numbers, emails, full dates of birth: the writer's confirmation is not enough."""
        return [f for f in self.findings if f.kind in STRONG]

    def needs_confirmation(self, confirmed: bool) -> bool:
        """Shared writing with likely identifiers waits until the writer confirms they are not identifiers."""
        return bool(self.findings) and not confirmed

    def highlighted(self) -> Markup:
        return highlight(self.text, self.findings)

    def as_json(self) -> dict[str, object]:
        return {
            "crisis": self.crisis.fired,
            "level": self.crisis.level,
            "findings": [{"kind": f.kind, "label": f.label, "start": f.start, "end": f.end, "text": f.text,
                          "strong": f.kind in STRONG} for f in self.findings],
            "highlighted": str(self.highlighted()) if self.findings else "",
        }


# Screening runs here, never on the event loop: the classifier's tokenizer and numpy work, and the rules' regexes
# on a long post, would otherwise stall every other request and socket of the process. Two threads: the machine's
# cores; more posts than that wait their turn in the pool's queue instead of competing for the GIL.
SCREENING_THREADS = 2
_POOL = ThreadPoolExecutor(max_workers=SCREENING_THREADS, thread_name_prefix="screening")


def screen(text: str, *, check_identifiers: bool = True) -> Screening:
    """Blocking: call screen_async from async code."""
    return Screening(text=text, crisis=detect_crisis(text),
                     findings=find_identifiers(text) if check_identifiers else [])


def screen_soon(text: str, *, check_identifiers: bool = True) -> asyncio.Future[Screening]:
    """`screen` started on the screening pool now; await the future when the result is needed (meanwhile the
    caller may wait on something else, e.g. a query)."""
    call = functools.partial(screen, text, check_identifiers=check_identifiers)
    return asyncio.get_running_loop().run_in_executor(_POOL, call)


async def screen_async(text: str, *, check_identifiers: bool = True) -> Screening:
    """`screen` on the screening pool, so the event loop keeps serving while a post is screened."""
    return await screen_soon(text, check_identifiers=check_identifiers)


async def record_shared(session: AsyncSession, screening: Screening, *, target_kind: str, target_id: int) -> None:
    """Shared content only: crisis -> an urgent item at the top of the queue (the post stays visible);
    confirmed identifiers -> a patient-privacy item."""
    if screening.crisis.fired:
        await review.open_item(session, target_kind=target_kind, target_id=target_id, reason="crisis",
                               source="crisis")
    if screening.findings:
        await review.open_item(session, target_kind=target_kind, target_id=target_id, reason="privacy",
                               source="phi")
