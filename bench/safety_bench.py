"""Safety detectors: crisis recall and precision on the frozen split beside the in-sample figures, patient
identifiers, milliseconds per 80-word post (cold and for the composer's live check), and memory per process."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from community.platform.safety import crisis, find_identifiers, semantic
from community.safety import detect_crisis

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
RUNS = 300

TARGETS: dict[str, tuple[str, float]] = {
    "safety.crisis.frozen.recall": (">=", 0.95),
    "safety.crisis.frozen.precision": (">=", 0.90),
    "safety.phi.frozen.recall": (">=", 0.95),
    "safety.crisis.ms_per_80_words_p50": ("<=", 10.0),
    "safety.crisis.live_ms_p50": ("<=", 10.0),
    "safety.rss_mb": ("<=", 150.0),
}
SETTINGS = {"runs": RUNS, "post_chars": 0, "cpu_affinity": ""}

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


def crisis_scores(rows: list[dict], detect=detect_crisis) -> tuple[float, float]:
    """(recall, precision) of detect over rows."""
    tp = fp = fn = 0
    for row in rows:
        fired = detect(row["text"]).fired
        tp += fired and row["label"] == 1
        fp += fired and row["label"] == 0
        fn += not fired and row["label"] == 1
    return tp / (tp + fn), tp / (tp + fp)


def phi_scores(name: str = "phi.jsonl") -> tuple[float, float]:
    """(recall, precision) of find_identifiers over a set: phi.jsonl is in-sample (the set it was tuned on),
    phi_frozen.jsonl was written before the untitled-name and age-with-place detectors.

    Recall: items whose every expected kind is found. Precision: found kinds that were expected.
    """
    expected_items = recalled = found = correct = 0
    for row in _rows(name):
        kinds = [f.kind for f in find_identifiers(row["text"])]
        found += len(kinds)
        correct += sum(1 for kind in kinds if kind in row["kinds"])
        if row["kinds"]:
            expected_items += 1
            recalled += set(row["kinds"]) <= set(kinds)
    return recalled / expected_items, correct / found


def posts_of_80_words() -> list[str]:
    """80-word windows over the realistic post and the labelled sentences (varied wording, real punctuation)."""
    words = (POST + " " + " ".join(row["text"] for row in _rows("crisis.jsonl"))).split()
    return [" ".join(words[i:i + 80]) for i in range(0, len(words) - 80, 80)][:RUNS]


def cold_ms(posts: list[str]) -> list[float]:
    """Each post screened with an empty sentence cache: the cost of a post seen for the first time."""
    model = semantic.classifier()
    samples = []
    for post in posts:
        model.score.cache_clear()
        started = time.perf_counter_ns()
        detect_crisis(post)
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def live_ms(posts: list[str]) -> tuple[list[float], float]:
    """The composer's live check: the draft was checked before, then one sentence changes. Returns the times
    and the mean number of sentences the classifier embedded per check (cache misses)."""
    model = semantic.classifier()
    samples, misses = [], 0
    for number, post in enumerate(posts):
        detect_crisis(post)
        before = model.score.cache_info().misses
        edited = post.replace(".", f". Also, one more thing from shift {number}.", 1)
        started = time.perf_counter_ns()
        detect_crisis(edited)
        samples.append((time.perf_counter_ns() - started) / 1e6)
        misses += model.score.cache_info().misses - before
    return samples, misses / len(posts)


_RSS_PROBE = """
import resource
from community.app import create_app
from community.platform.safety import semantic
from community.safety import detect_crisis
for i in range(200):
    detect_crisis(f"Post {i}: I slept badly and the pager kept going. Honestly there is nothing left for me.")
try:  # VmHWM is this process's own peak; ru_maxrss keeps the forking parent's peak across exec
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    print(int(status.split()[0]) / 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def rss_mb() -> float:
    """Peak resident memory of a fresh process that imported the whole app and screened posts (MB)."""
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    """Long because: one flat list of every figure, each labelled as frozen-split or in-sample."""
    SETTINGS["post_chars"] = len(POST)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
        SETTINGS["cpu_affinity"] = str(sorted(os.sched_getaffinity(0)))
    rows = _rows("crisis.jsonl")
    frozen = [r for r in rows if r["split"] == "test"]
    tuned = [r for r in rows if r["split"] != "test"]
    original = [r for r in rows if r["category"] == "original"]
    frozen_recall, frozen_precision = crisis_scores(frozen)
    rules_frozen_recall, rules_frozen_precision = crisis_scores(frozen, crisis.detect_rules)
    sample_recall, sample_precision = crisis_scores(tuned)
    rules_recall, rules_precision = crisis_scores(original, crisis.detect_rules)
    phi_recall, phi_precision = phi_scores()
    phi_frozen_recall, phi_frozen_precision = phi_scores("phi_frozen.jsonl")
    posts = posts_of_80_words()
    cold = cold_ms(posts)
    live, misses = live_ms(posts)
    return {
        "safety.crisis.frozen.recall": round(frozen_recall, 4),
        "safety.crisis.frozen.precision": round(frozen_precision, 4),
        "safety.crisis.frozen.rules_only_recall": round(rules_frozen_recall, 4),
        "safety.crisis.frozen.rules_only_precision": round(rules_frozen_precision, 4),
        "safety.crisis.in_sample.recall": round(sample_recall, 4),
        "safety.crisis.in_sample.precision": round(sample_precision, 4),
        "safety.crisis.in_sample.rules_original_recall": round(rules_recall, 4),
        "safety.crisis.in_sample.rules_original_precision": round(rules_precision, 4),
        "safety.phi.frozen.recall": round(phi_frozen_recall, 4),
        "safety.phi.frozen.precision": round(phi_frozen_precision, 4),
        "safety.phi.recall_in_sample": round(phi_recall, 4),
        "safety.phi.precision_in_sample": round(phi_precision, 4),
        "safety.crisis.ms_per_80_words_p50": round(statistics.median(cold), 3),
        "safety.crisis.ms_per_80_words_p99": round(sorted(cold)[int(len(cold) * 0.99) - 1], 3),
        "safety.crisis.live_ms_p50": round(statistics.median(live), 3),
        "safety.crisis.live_sentences_embedded": round(misses, 2),
        "safety.rss_mb": round(rss_mb(), 1),
        "safety.bench_process_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
