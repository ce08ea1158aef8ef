"""Grouped cross-validation of the hybrid detector: `python -m community.platform.safety.crossval [--writers]`.

Reads only the train and dev splits (`train.rows`, which refuses "test"). A theme is a row's category without a
writer's suffix (`_b` to `_z`, then `_2a` to `_2h`, then `_3b` to `_3g`); each theme is left out in turn: the head
is fitted on the rest of train as `train.fit` does, the threshold picked on the rest of dev as
`train.pick_threshold` does, and the left-out rows are decided by `detector.decide`, so what is measured is the
detector as it runs. `--writers` leaves out each writer's rows (a suffix) in turn instead: the estimate for
wording nobody here has seen (`--only _o _p` pools just those writers: the README's figure for the newest
sittings). Every distinct text is embedded once; a fold only re-scores.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from community.platform.safety import detector, semantic, train

# One sitting each: _b to _z, then the eighth round's _2a to _2h, then the ninth's _3b to _3g.
WRITER_SUFFIXES = (tuple(f"_{letter}" for letter in "bcdefghijklmnopqrstuvwxyz")
                   + tuple(f"_2{letter}" for letter in "abcdefgh") + tuple(f"_3{letter}" for letter in "bcefg"))


@dataclass(frozen=True)
class Case:
    row: train.Row
    split: str
    theme: str
    writer: str  # the suffix, "" for the first sittings
    assessment: detector.Assessment  # scores to be filled in per fold
    parts: tuple[str, ...]  # the classifier's inputs: its sentences, then the whole post if it is scored


def theme_and_writer(category: str) -> tuple[str, str]:
    for suffix in WRITER_SUFFIXES:
        if category.endswith(suffix):
            return category[: -len(suffix)], suffix
    return category, ""


def cases(embedder: semantic.Embedder) -> tuple[list[Case], dict[str, np.ndarray]]:
    """Every train and dev row with its assessment's inputs, and the embedding of every text the folds need."""
    out = []
    for split in ("train", "dev"):
        for row in train.rows(split):
            probe = detector.assess(cast(semantic.Classifier, _Probe()), row.text)
            parts = tuple(p for p in probe.scores if isinstance(p, str)) + ((probe.whole,) if probe.whole else ())
            out.append(Case(row, split, *theme_and_writer(row.category), probe, parts))
    texts = sorted({t for c in out for t in c.parts} | {train.training_text(c.row.text) for c in out})
    return out, dict(zip(texts, embedder.features(texts), strict=True))


class _Probe:
    """Stands in for the classifier in detector.assess: returns each text it is asked about, to be scored later."""

    def score(self, text: str) -> str:
        return text

    def scores(self, texts: list[str]) -> list[str]:
        return texts


def _scored(case: Case, score: Callable[[str], float]) -> detector.Assessment:
    a = case.assessment
    return detector.Assessment(a.text, a.sentences, tuple(None if s is None else score(s) for s in a.scores),
                               None if a.whole is None else score(a.whole))


def run(all_cases: list[Case], vectors: dict[str, np.ndarray], group: Callable[[Case], str],
        held_out: tuple[str, ...] = ()) -> tuple[float, float]:
    """(recall, precision) over the cases of every group (or of the held_out groups), each case decided by a
    head fitted and thresholded without its group."""
    fired: list[bool] = []
    labels: list[int] = []
    for held in held_out or sorted({group(c) for c in all_cases}):
        rest = [c for c in all_cases if group(c) != held]
        fit_on = [c for c in rest if c.split == "train"]
        weights, bias = train.fit(np.array([vectors[train.training_text(c.row.text)] for c in fit_on]),
                                  np.array([c.row.label for c in fit_on], np.float64))

        def score(text: str, w: np.ndarray = weights, b: float = bias) -> float:
            return float(1.0 / (1.0 + np.exp(-(vectors[text] @ w + b))))

        dev = [c for c in rest if c.split == "dev"]
        threshold = train.best_threshold([_scored(c, score) for c in dev], [c.row.label for c in dev])
        for case in (c for c in all_cases if group(c) == held):
            fired.append(detector.decide(_scored(case, score), threshold).fired)
            labels.append(case.row.label)
    return train.recall_precision(fired, labels)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", action="store_true", help="leave out each writer's rows instead of each theme")
    parser.add_argument("--only", nargs="+", metavar="SUFFIX", choices=WRITER_SUFFIXES,
                        help="with --writers: leave out only these writers, in turn, and pool their figures")
    args = parser.parse_args(argv)
    if args.only and not args.writers:
        parser.error("--only needs --writers")
    all_cases, vectors = cases(semantic.load_embedder())
    if args.writers:
        writers = tuple(args.only or sorted({c.writer for c in all_cases} - {"", "_b"}))
        for writer in writers:
            recall, precision = run(all_cases, vectors, lambda c: c.writer, (writer,))
            print(f"writer {writer} left out: recall {recall:.3f} precision {precision:.3f}")
        recall, precision = run(all_cases, vectors, lambda c: c.writer, writers)
        print(f"each writer left out, pooled: recall {recall:.3f} precision {precision:.3f}")
        if args.only:
            return
    recall, precision = run(all_cases, vectors, lambda c: c.theme)
    print(f"each theme left out: recall {recall:.3f} precision {precision:.3f} ({len(all_cases)} rows)")


if __name__ == "__main__":
    main()
