"""Crisis detector: the named cases from the spec, negation, spans and robustness (the hybrid detector), and the
rules' own in-sample figures on the rows they were written against. The floors that measure generalisation are
on the frozen split, in test_semantic.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from community.platform.safety import crisis as crisis_module
from community.safety import CrisisResult, Span, detect_crisis

DATA = Path(__file__).resolve().parents[1] / "data" / "crisis.jsonl"


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def scores(rows: list[dict]) -> tuple[float, float, list[str], list[str]]:
    """(recall, precision, missed positives, false alarms) of the rules alone over rows."""
    tp = fp = fn = 0
    missed, false_alarms = [], []
    for row in rows:
        fired = crisis_module.detect_rules(row["text"]).fired
        if fired and row["label"]:
            tp += 1
        elif fired:
            fp += 1
            false_alarms.append(row["text"])
        elif row["label"]:
            fn += 1
            missed.append(row["text"])
    return tp / (tp + fn), tp / (tp + fp), missed, false_alarms


def test_rules_in_sample_floors():
    """In-sample: the 477 original rows are the ones the rules were tuned on, so this guards the rules against
    regressions; it says nothing about wording they were not written for."""
    original = [row for row in load() if row["category"] == "original"]
    assert len(original) == 477
    recall, precision, missed, false_alarms = scores(original)
    print(f"\nrules in-sample recall={recall:.3f} precision={precision:.3f}")
    print("missed:", *missed, sep="\n  ")
    print("false alarms:", *false_alarms, sep="\n  ")
    assert recall >= 0.95
    assert precision >= 0.85


@pytest.mark.parametrize("text", [
    "I don't want to live anymore.",
    "I don't want to be here anymore.",
    "I can't do this anymore, I want to disappear.",
    "Everyone would be better off without me.",
    "I can't stop shaking and I can't breathe, I'm falling apart.",
    "I've been thinking about how I would kill myself.",
    "I cut myself again last night.",
])
def test_named_positives(text):
    assert detect_crisis(text).fired


@pytest.mark.parametrize("text", [
    "I'm not suicidal.",
    "I would never hurt myself.",
    "My patient's suicide attempt shook me.",
    "The patient was on suicide watch.",
    "We admitted a teen after an overdose.",
    "We discussed burnout statistics.",
    "I read a study of physician suicide rates.",
    "This shift is killing me.",
    "I could kill for a coffee.",
    "I'm dying to go home.",
    "That lecture was murder.",
    "I'm dead tired.",
])
def test_named_negatives(text):
    assert not detect_crisis(text).fired


@pytest.mark.parametrize(("negated", "affirmed"), [
    ("I'm not suicidal.", "I'm suicidal."),
    ("I would never hurt myself.", "I want to hurt myself."),
    ("I don't want to die.", "I want to die."),
    ("I'm not going to kill myself.", "I'm going to kill myself."),
    ("There's no way I'd end my life.", "I want to end my life."),
    ("I'm no longer having suicidal thoughts.", "I'm having suicidal thoughts."),
])
def test_negation_flips_the_result(negated, affirmed):
    assert not detect_crisis(negated).fired
    assert detect_crisis(affirmed).fired


@pytest.mark.parametrize("text", [
    "I don't want to live anymore.",  # the negation is the message
    "I don't know why I want to die.",  # "don't know" does not negate the wish
    "I haven't told anyone that I've been cutting.",
    "I can't stop thinking about killing myself.",
])
def test_negative_words_that_do_not_negate(text):
    assert detect_crisis(text).fired


def test_levels():
    assert detect_crisis("I just want to die.").level == "risk"
    assert detect_crisis("I'm having a panic attack and I can't breathe.").level == "distress"
    assert detect_crisis("I'm falling apart. I want to die.").level == "risk"  # the strongest level wins
    none = detect_crisis("Compassion is not the same as empathy.")
    assert none == CrisisResult(False, "none", ())


def test_quoted_speech_is_someone_else_unless_it_is_self_talk():
    assert not detect_crisis('The patient told me "I want to die" and I froze.').fired
    assert not detect_crisis("She kept saying I want to kill myself, over and over.").fired
    assert not detect_crisis("She said, over and over, I want to die.").fired  # "and" there ends nothing
    assert not detect_crisis("He said again and again that he wants to die.").fired
    assert detect_crisis("She said it would pass and I want to die.").fired
    assert detect_crisis('I keep telling myself "everyone would be better off without me."').fired


def test_a_me_label_is_the_writer_and_i_just_starts_a_clause():
    # "me: ... also me: ..." is the writer's own line; it read as a continuation with nobody named before it.
    assert detect_crisis("me: 'i'm fine!' also me: googling painless ways to die at 3am between pages").fired
    assert not detect_crisis("my patient told me: googling ways to die is common in teens").fired
    # Unpunctuated, "i just" ends the negation before it, as a comma already did.
    assert detect_crisis("i don't want to die exactly i just want to not exist for a while").fired
    assert detect_crisis("I don't want to die, I just want to not exist.").fired
    assert not detect_crisis("I don't want to die, I just want to sleep for a week.").fired
    assert not detect_crisis("I'm not suicidal i just need a day off").fired


def test_the_writer_reporting_their_own_words_is_not_someone_else():
    # "I've told" once read as a speaker named "ve", so the writer's own words were taken for someone else's.
    assert detect_crisis("I've told myself that if nothing changes by June, I'll end it.").fired
    assert detect_crisis("I'd said it before and I'll say it again: I want to die.").fired
    assert not detect_crisis("She's said she wants to die.").fired
    assert not detect_crisis("They've told me they want to die.").fired


def test_clinical_and_supportive_writing():
    for text in ("I sat with a patient who told me she wanted to die.",
                 "If you ever feel like you want to die, please call 988.",
                 "My co-resident died by suicide last year and I still think about her.",
                 "Two years ago I was suicidal; today I'm doing much better."):
        assert not detect_crisis(text).fired, text


def test_robust_to_curly_quotes_casing_and_whitespace():
    for text in ("I don\u2019t want to be here anymore.", "I  DON'T   want to\tbe here   anymore.",
                 "i dont want to be here anymore", "I want to\ndie."):
        assert detect_crisis(text).fired, text


def test_spans_point_into_the_text():
    text = "Long night.  Honestly I \u2019m fine, but\u00a0I want to disappear. And I can\u2019t breathe."
    result = detect_crisis(text)
    assert result.fired and result.spans
    for span in result.spans:
        assert isinstance(span, Span)
        assert text[span.start:span.end] == span.text and span.text.strip() == span.text
    assert [s.start for s in result.spans] == sorted(s.start for s in result.spans)
    for row in load():
        for span in detect_crisis(row["text"]).spans:
            assert row["text"][span.start:span.end] == span.text


def test_per_sentence_scoring_finds_the_one_sentence():
    text = ("Rounds ran long and the attending was kind about my presentation. I ate lunch at 4. "
            "Honestly, I want to disappear. Tomorrow is clinic.")
    result = detect_crisis(text)
    assert [s.text for s in result.spans] == ["I want to disappear"]


def test_keyword_prefilter_never_changes_a_result(monkeypatch):
    """The word index only skips rules that cannot match; without it every result must be the same."""
    texts = [row["text"] for row in load()]
    expected = [detect_crisis(t) for t in texts]
    everything = list(range(len(crisis_module._PARTS)))
    monkeypatch.setattr(crisis_module, "_candidate_parts", lambda lowered: everything)
    assert [detect_crisis(t) for t in texts] == expected


@pytest.mark.parametrize("text", [
    "I " * 3000,
    "I want to " * 600,
    "really " * 1500 + "want",
    '"' + "a " * 2000,
    "'" + "I'm " * 1500,
    " ".join(["not"] * 2000) + " okay",
    "so tired, " * 500,
])
def test_pathological_input_stays_fast(text):
    started = time.perf_counter()
    detect_crisis(text)
    assert time.perf_counter() - started < 0.5
