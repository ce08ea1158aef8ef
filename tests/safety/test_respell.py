"""Misspelt crisis words are read as meant, and nothing spelt right is ever changed (respell.py, the rules)."""

from __future__ import annotations

import pytest

from community.platform.safety import crisis, minilm
from community.platform.safety.respell import Respeller


@pytest.fixture(scope="module")
def respeller() -> Respeller:
    return crisis._respeller()


@pytest.mark.parametrize(("typed", "meant"), [
    ("i wnat to die", "i want to die"),
    ("I want to kil myself.", "I want to kill myself."),
    ("thinkin about endin it all", "thinking about ending it all"),
    ("i want to cut mysefl", "i want to cut myself"),
    ("I keep thinking about suicdie", "I keep thinking about suicide"),
    ("WNAT TO DIE", "WANT TO DIE"),
])
def test_a_misspelt_keyword_is_read_as_meant(respeller, typed, meant):
    assert respeller.respell(typed)[0] == meant


@pytest.mark.parametrize("text", [
    "i wnat to die",
    "I want to kil myself.",
    "im going to kill mysefl tonight",
    "i cant do this anymroe",
    "i wnat to disapear and never come back",
])
def test_short_misspelt_cries_fire_on_the_rules(text):
    result = crisis.detect_rules(text)
    assert result.fired, text
    # the span is cut from what the member typed, not from the respelt text
    for span in result.spans:
        assert text[span.start:span.end] == span.text


def test_the_span_covers_the_typed_word_when_it_grew():
    text = "ok so. I want to kil myself tonight"
    (span,) = crisis.detect_rules(text).spans
    assert span.text == "I want to kil myself"


def test_words_the_vocabulary_knows_are_never_changed(respeller):
    vocabulary = [w for w in minilm.load_tokenizer().get_vocab() if w.isalpha() and len(w) >= 3][:5000]
    text = " ".join(vocabulary)
    assert respeller.respell(text) == (text, None)


@pytest.mark.parametrize("word", ["pateint", "xq", "ok", "od", "burdn"])
def test_no_guess_for_words_that_are_not_near_exactly_one_keyword(respeller, word):
    # "burdn" is one letter from both "burden" and "burn"; "pateint" is near no keyword; short words are left
    assert respeller.correct(word) is None


@pytest.mark.parametrize("text", [
    "my pateint told me he wants to die",
    "not suicdal, just wrecked after nights",
    "I wnat to go home and sleep",
])
def test_respelling_keeps_the_rules_context(text):
    assert not crisis.detect_rules(text).fired, text
