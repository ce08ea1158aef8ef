"""Reading fast typing the way it was meant: a misspelt crisis word is read as the word ("i wnat to die").

Members write at 3 a.m., on a phone, in a live room, and the rules match words. A word that is not in the
model's WordPiece vocabulary (30,522 entries: every common English word, so a correctly spelt word is never
changed) and is one edit away from exactly one of the rules' keywords is read as that keyword: two neighbouring
letters swapped ("wnat", "dei"), one letter wrong, missing or doubled ("kil", "myslef" is a swap, "suicdal",
"killl"). Swaps are tried first, since they are the commonest slip at speed ("wnat" is one swap from "want" and
one wrong letter from "what"); two keywords equally near mean no guess. A word of three letters is only
unswapped or given its missing letter ("kil"); shorter ones are never touched.

Spans still point into what the member wrote: `respell` returns, for each character of the respelt text, where
it came from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z]+")
MIN_LENGTH = 3  # shorter words are never respelt
MIN_EDIT_LENGTH = 4  # shorter words are only unswapped or lengthened


def _swaps(word: str) -> Iterable[str]:
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _one_edit(word: str, target: str) -> bool:
    """Whether target is one substituted, deleted or inserted letter away from word."""
    if len(word) == len(target):
        return sum(a != b for a, b in zip(word, target, strict=True)) == 1
    short, long = sorted((word, target), key=len)
    if len(long) - len(short) != 1:
        return False
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


class Respeller:
    def __init__(self, keywords: Iterable[str], vocabulary: Iterable[str]) -> None:
        self.keywords = frozenset(k for k in keywords if k.isalpha() and len(k) >= MIN_LENGTH)
        self.known = frozenset(vocabulary) | self.keywords
        self.by_length: dict[int, list[str]] = {}
        for keyword in sorted(self.keywords):
            self.by_length.setdefault(len(keyword), []).append(keyword)
        self.correct = functools.lru_cache(maxsize=4096)(self._correct)

    def _correct(self, word: str) -> str | None:
        """The keyword a lowercase word was meant to be, or None."""
        if len(word) < MIN_LENGTH or word in self.known:
            return None
        swapped = {s for s in _swaps(word) if s in self.keywords}
        if swapped:
            return swapped.pop() if len(swapped) == 1 else None
        lengths = (len(word) - 1, len(word), len(word) + 1) if len(word) >= MIN_EDIT_LENGTH else (len(word) + 1,)
        near = [k for n in lengths for k in self.by_length.get(n, ())
                if len(k) >= MIN_EDIT_LENGTH and _one_edit(word, k)]
        return near[0] if len(near) == 1 else None

    def respell(self, text: str) -> tuple[str, list[int] | None]:
        """text with misspelt keywords respelt, and each character's index in text (None: nothing changed)."""
        lowered = text.lower()
        pieces: list[str] = []
        origin: list[int] = []
        done = 0
        for m in _WORD.finditer(lowered):
            fixed = self.correct(m.group())
            if fixed is None:
                continue
            pieces.append(text[done:m.start()])
            origin.extend(range(done, m.start()))
            pieces.append(_same_case(text[m.start():m.end()], fixed))
            # Every letter of the respelt word comes from the word as typed (its last letter when it grew).
            origin.extend(min(m.start() + i, m.end() - 1) for i in range(len(fixed)))
            done = m.end()
        if not pieces:
            return text, None
        pieces.append(text[done:])
        origin.extend(range(done, len(text)))
        return "".join(pieces), origin


def _same_case(typed: str, fixed: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return fixed.upper()
    if typed[:1].isupper():
        return fixed[:1].upper() + fixed[1:]
    return fixed
