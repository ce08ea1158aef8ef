"""The labelled crisis set: its shape, its categories, and the frozen test split that nothing is tuned on."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "crisis.jsonl"
# sha256 of the frozen test split, sorted (text, label) pairs as JSON. Written before any rule or model was
# measured on it, and never edited since: a change here means the floors in test_semantic.py no longer measure
# generalisation. Add rows to train or dev instead.
FROZEN_SHA256 = "cc24075af6420a41b583a2d6f33e7bfd32a988585fe9316f8930730b85cdcad1"


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def frozen_digest(rows: list[dict]) -> str:
    pairs = sorted((row["text"], row["label"]) for row in rows if row["split"] == "test")
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def test_the_frozen_split_is_unchanged():
    assert frozen_digest(load()) == FROZEN_SHA256


def test_rows_are_labelled_consistently():
    rows = load()
    assert len({row["text"] for row in rows}) == len(rows), "duplicate sentences"
    for row in rows:
        assert row["kind"] in {"positive", "negative", "hard_negative"}, row
        assert row["label"] == (1 if row["kind"] == "positive" else 0), row
        assert row["split"] in {"train", "dev", "test"}, row
        assert row["category"], row


def test_no_sentence_is_in_two_splits_even_with_different_case_or_spacing():
    seen: dict[str, str] = {}
    for row in load():
        key = " ".join(row["text"].lower().split())
        assert seen.setdefault(key, row["split"]) == row["split"], row["text"]


def test_the_frozen_split_covers_every_category_of_the_issue():
    frozen = [row for row in load() if row["split"] == "test"]
    positives = Counter(row["category"] for row in frozen if row["label"])
    negatives = Counter(row["category"] for row in frozen if row["kind"] == "hard_negative")
    for category in ("no_reason", "tired_alive", "not_wake", "conditional", "plan_means", "farewell", "burden",
                     "possessions", "easy_stop", "self_harm", "hopeless"):
        assert positives[category] >= 8, category
    for category in ("patient_suicide", "phq9", "maid", "colleague", "grief", "burnout", "idiom", "quote",
                     "recovered", "research"):
        assert negatives[category] >= 8, category


PHI_FROZEN = Path(__file__).resolve().parents[1] / "data" / "phi_frozen.jsonl"
# sha256 of the frozen patient-identifier split, written before the untitled-name and age-with-place detectors.
PHI_FROZEN_SHA256 = "8c1ca195da65ec4173b29aee82a71a5062923fa2f88583b350e0f339023cf078"


def load_phi_frozen() -> list[dict]:
    return [json.loads(line) for line in PHI_FROZEN.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_frozen_identifier_split_is_unchanged():
    pairs = sorted((row["text"], row["kinds"]) for row in load_phi_frozen())
    assert hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest() == PHI_FROZEN_SHA256
