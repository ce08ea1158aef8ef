"""Safety detectors: recall and precision on the labelled sets, and microseconds per realistic 2,000-character post."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from community.platform.safety import detect_crisis, find_identifiers

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
RUNS = 2000

TARGETS: dict[str, tuple[str, float]] = {
    "safety.crisis.recall": (">=", 0.95),
    "safety.crisis.precision": (">=", 0.85),
    "safety.phi.recall": (">=", 0.90),
    "safety.us_per_post": ("<=", 2000.0),
}
SETTINGS = {"runs": RUNS, "post_chars": 0}

# A realistic post: a reflection with clinical detail, identifiers and words that look like crisis language but are
# not (idioms, a patient's words, a question about suicidal thoughts), so both detectors do real work.
POST = """\
Third week of nights on the medicine wards and I wanted to write something down before I forget how it felt. \
Around 2 a.m. I admitted a 92-year-old from a nursing home with a urinary infection and delirium. Her daughter \
called twice, frightened, and I found myself rushing the conversation because the pager would not stop. I knew \
the script: name the emotion, pause, ask what matters most. I said "that must be so hard" and heard how hollow \
it sounded. Later, in room 412, she held my hand while I checked her lungs and told me about the farm she grew \
up on. I stayed ten minutes longer than I had, and the rest of the night went better, not worse.

I keep thinking about the difference between empathy and compassion that someone posted here last month. On the \
nights I try to feel everything my patients feel, I end up exhausted and short with the nurses. On the nights I \
just notice the suffering and ask what I can do, I leave tired but not empty. This shift is killing me some \
days, and I'm not going to pretend the schedule is humane, but I'm okay. I'm not hopeless; I'm frustrated with \
a system that leaves thirty minutes for a family meeting that needs an hour.

A co-resident asked me last week how to talk to a patient who says she wants to die. We practised together: ask \
directly, listen, don't rush to fix. I realised I had never been taught that in medical school, only the \
checklist. If anyone has good resources on asking about suicidal thoughts without sounding scripted, please \
share them.

Small things that are helping me right now: a two-minute walk outside after every admission, eating an actual \
meal at 4 a.m., texting my partner one good moment from each shift, and saying no to an extra moonlighting \
shift. My attending, Dr. Okafor, sat with the family of the patient in bed 7 for twenty minutes after the code, \
and it reminded me why I chose this work. I'd love to hear what keeps the rest of you going, especially the \
attendings who are years out of training and still need this.
"""


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def crisis_scores() -> tuple[float, float]:
    """(recall, precision) of detect_crisis over tests/data/crisis.jsonl."""
    tp = fp = fn = 0
    for row in _rows("crisis.jsonl"):
        fired = detect_crisis(row["text"]).fired
        tp += fired and row["label"] == 1
        fp += fired and row["label"] == 0
        fn += not fired and row["label"] == 1
    return tp / (tp + fn), tp / (tp + fp)


def phi_scores() -> tuple[float, float]:
    """(recall, precision) of find_identifiers over tests/data/phi.jsonl.

    Recall: items whose every expected kind is found. Precision: found kinds that were expected.
    """
    expected_items = recalled = found = correct = 0
    for row in _rows("phi.jsonl"):
        kinds = [f.kind for f in find_identifiers(row["text"])]
        found += len(kinds)
        correct += sum(1 for kind in kinds if kind in row["kinds"])
        if row["kinds"]:
            expected_items += 1
            recalled += set(row["kinds"]) <= set(kinds)
    return recalled / expected_items, correct / found


def microseconds_per_post(post: str = POST, runs: int = RUNS) -> float:
    """Median time to run both detectors over post, after a short warm-up."""
    for _ in range(50):
        detect_crisis(post)
        find_identifiers(post)
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        detect_crisis(post)
        find_identifiers(post)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def run() -> dict[str, float]:
    SETTINGS["post_chars"] = len(POST)
    crisis_recall, crisis_precision = crisis_scores()
    phi_recall, phi_precision = phi_scores()
    return {
        "safety.crisis.recall": round(crisis_recall, 4),
        "safety.crisis.precision": round(crisis_precision, 4),
        "safety.phi.recall": round(phi_recall, 4),
        "safety.phi.precision": round(phi_precision, 4),
        "safety.us_per_post": round(microseconds_per_post(), 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
