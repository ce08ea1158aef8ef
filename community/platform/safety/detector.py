"""Crisis detection: the rules and the semantic classifier together, sentence by sentence and on the whole.

A post fires when any sentence fires, by a rule or by the classifier, or when the classifier fires on the
whole post (wording spread over several sentences). In a post of several sentences, a sentence's classifier hit
counts only when the whole post also scores near the threshold (`WHOLE_GATE`): one stray sentence of a long
benign post is not enough. The classifier is not trusted on a sentence where a rule's
phrase was found but the rule rejected it (negated, someone else's words, a hypothetical, the distant past, a
subject other than the writer) or where an everyday idiom of dying or killing is ("I'm dying to go home",
`crisis.idiomatic`), and it reads each sentence with other people's quoted speech blanked out: that is how a
patient's, a colleague's or a lyric's words stay theirs. A classifier hit is level "risk", like the
rules it stands beside.
"""

from __future__ import annotations

from dataclasses import dataclass

from community.platform.safety import crisis, semantic
from community.platform.safety.crisis import RISK, CrisisResult, Span

SEMANTIC = "semantic"
SEMANTIC_WHOLE = "semantic:whole"
# A mean of a few token rows is noise, not meaning: a title like "Ordinary" scored 0.58, and short benign
# fragments of the app's own seed prompts ("Where your time goes", "One breath between rooms") fired, so until
# round 9 the classifier read only sentences of five words or more, and short plans ("picked the date. sunday")
# reached neither it nor the rules. With the sentence's words beside the embedding (semantic.words), shorter
# sentences carry meaning: on five new writers' rows that no choice was made on, 0.878 / 0.846 with four words
# against 0.868 / 0.838 with five (their short lines: recall 0.644 -> 0.695 at precision 0.94); writer-grouped
# cross-validation gave three words 0.893 / 0.815 against 0.893 / 0.806 with five. Three was tried and went back
# to four: "An ordinary post." (0.63) and a room's "One more thought." (0.95) fired in two tests. Shorter
# sentences are left to the rules and to the whole-post score.
MIN_WORDS = 4
# The maximum over a long post's sentences of a noisy score finds a stray high one ("I've read everything by Atul
# Gawande and need something completely different for my annual leave." scored 0.91 in a benign book request),
# so where the whole post was scored, a sentence's classifier hit also needs the whole post's score to be at least
# threshold - WHOLE_GATE. Grouped cross-validation (each theme left out): precision 0.698 -> 0.720 at recall
# 0.866 -> 0.868; each new writer's rows held out: precision 0.673 -> 0.750 at recall 0.902 -> 0.900, long posts
# 0.540 -> 0.735 at recall 1.0. 0.1 was as precise but lost recall; 0.3 and 0.4 barely changed anything.
WHOLE_GATE = 0.2


@dataclass(frozen=True)
class Assessment:
    """Everything the decision needs, computed once: train.py picks the threshold on these."""

    text: str
    sentences: tuple[crisis.RuleSentence, ...]
    scores: tuple[float | None, ...]  # per sentence; None where the rules decided (fired or cancelled)
    whole: float | None  # the post as one text; None for one sentence or when any sentence was cancelled


def _classifier_input(sentence: crisis.RuleSentence) -> str:
    return sentence.masked.strip()


def _classified(sentence: crisis.RuleSentence) -> bool:
    """Whether the classifier reads this sentence: the rules did not decide it, it is long enough to mean
    something as a mean of token rows, and it carries no everyday idiom of dying ("I'm dying to go home")."""
    text = _classifier_input(sentence)
    return not sentence.spans and not sentence.cancelled and _long_enough(text) and not crisis.idiomatic(text)


def _long_enough(text: str) -> bool:
    return len(text.split()) >= MIN_WORDS


def assess(model: semantic.Classifier, text: str) -> Assessment:
    sentences = tuple(crisis.rule_sentences(text))
    scores = tuple(model.score(_classifier_input(s)) if _classified(s) else None for s in sentences)
    whole = None
    joined = " ".join(_classifier_input(s) for s in sentences)
    if len(sentences) > 1 and _long_enough(joined) and not any(s.cancelled for s in sentences):
        whole = model.scores([joined])[0]
    return Assessment(text, sentences, scores, whole)


def _stripped_span(text: str, start: int) -> Span:
    stripped = text.strip()
    begin = start + (text.index(stripped) if stripped else 0)
    return Span(begin, begin + len(stripped), stripped)


def decide(assessment: Assessment, threshold: float) -> CrisisResult:
    spans: list[Span] = []
    levels: list[str] = []
    sources: list[str] = []
    whole_allows = assessment.whole is None or assessment.whole >= threshold - WHOLE_GATE
    for sentence, score in zip(assessment.sentences, assessment.scores, strict=True):
        if sentence.spans:
            spans.extend(sentence.spans)
            levels.append(sentence.level)
            sources.extend(sentence.rule_ids)
        elif score is not None and score >= threshold and whole_allows:
            spans.append(_stripped_span(sentence.text, sentence.start))
            levels.append(RISK)
            sources.append(SEMANTIC)
    if not spans and assessment.whole is not None and assessment.whole >= threshold:
        spans.append(_stripped_span(assessment.text, 0))
        levels.append(RISK)
        sources.append(SEMANTIC_WHOLE)
    return CrisisResult(bool(spans), crisis.strongest(levels), crisis.merge(spans), tuple(dict.fromkeys(sources)))


def detect_crisis(text: str) -> CrisisResult:
    """The hybrid detector: what every writing surface and the live check use."""
    model = semantic.classifier()
    return decide(assess(model, text), model.head.threshold)
