"""The semantic crisis classifier: a logistic-regression head over sentence embeddings of all-MiniLM-L6-v2 and
the sentence's words.

A sentence is embedded from its WordPiece tokens' rows in the static table distilled from the model
(`distill.py`): the mean of the rows, their elementwise maximum and their elementwise minimum, each scaled to unit
length and set side by side (1,152 numbers). The mean alone dilutes one telling word among ordinary ones ("I want
to be that" sat near "I want to die"); the maximum and minimum keep a strong token's trace. Writer-grouped
cross-validation at equal recall (about 0.89): precision 0.70 with the mean alone, 0.74 with all three.

Beside the embedding the head reads the sentence's words (`words`): its lowercase word unigrams and bigrams,
hashed into LEXICAL_DIM slots, present or not, scaled to length LEXICAL_SCALE. A token's static row knows what the
word means alone, never what follows it; a bigram keeps "my meds" apart from "her meds" and "ending my" from
"ending it". The small scale is the words' regularisation: the same L2 penalty on smaller features weighs the word
weights more, so the embedding leads and the words correct it (writer-grouped cross-validation: see train.py).

The table is opened memory-mapped and read as float16, so a process holds only the rows it has touched (at most
23 MB); the tokenizer comes from the installed model package. Both are loaded once per process, on first use.

Scores are cached by sentence text, so the composer's live check, which sends the whole draft on every pause,
re-embeds only the sentences that changed.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from community.platform.safety import minilm

MODEL_DIR = Path(__file__).resolve().parent / "model"
TABLE = MODEL_DIR / "static_table.npy"
HEAD = MODEL_DIR / "crisis_head.json"
SENTENCE_CACHE = 8192  # distinct sentences kept per process (a few hundred bytes each)
MAX_TOKENS = 256  # what the model reads of one sentence
EMBEDDING_DIM = 3 * 384  # mean, maximum, minimum
LEXICAL_DIM = 8192  # hashed word unigram and bigram slots
LEXICAL_SCALE = 0.5  # the length of a sentence's word vector (see the module's docstring)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Head:
    weights: np.ndarray  # (EMBEDDING_DIM + LEXICAL_DIM,): the embedding's (mean, maximum, minimum), then the words'
    bias: float
    threshold: float  # chosen on the dev split by train.py

    def to_json(self) -> dict[str, object]:
        return {"weights": [round(float(w), 7) for w in self.weights], "bias": round(self.bias, 7),
                "threshold": self.threshold}

    @classmethod
    def from_json(cls, data: dict) -> Head:
        return cls(np.asarray(data["weights"], np.float64), float(data["bias"]), float(data["threshold"]))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


class Embedder:
    """Static sentence embeddings: the mean, maximum and minimum of the token rows, each of unit length."""

    def __init__(self, tokenizer: Tokenizer, table: np.ndarray) -> None:
        self.tokenizer = tokenizer
        self.table = table
        self.unknown = tokenizer.token_to_id("[UNK]")

    def embed(self, sentences: list[str]) -> np.ndarray:
        width = self.table.shape[1]
        out = np.zeros((len(sentences), 3 * width), np.float64)
        for row, sentence in enumerate(sentences):  # encode, not encode_batch: no thread hand-off per call
            ids = self.tokenizer.encode(sentence, add_special_tokens=False).ids[:MAX_TOKENS] or [self.unknown]
            rows = self.table[ids].astype(np.float64)
            out[row, :width] = _unit(rows.mean(axis=0))
            out[row, width:2 * width] = _unit(rows.max(axis=0))
            out[row, 2 * width:] = _unit(rows.min(axis=0))
        return out

    def features(self, sentences: list[str]) -> np.ndarray:
        """What the head reads of each sentence: its embedding, then its words."""
        return np.hstack([self.embed(sentences), words(sentences)])


def words(sentences: list[str]) -> np.ndarray:
    """Each sentence's lowercase word unigrams and bigrams, hashed (CRC-32) into LEXICAL_DIM slots, each present
    once, the vector scaled to length LEXICAL_SCALE (zero for a sentence with no words)."""
    out = np.zeros((len(sentences), LEXICAL_DIM), np.float64)
    for row, sentence in enumerate(sentences):
        found = _WORD.findall(sentence.lower())
        grams = {*found, *(f"{a} {b}" for a, b in zip(found, found[1:], strict=False))}
        if grams:
            slots = {zlib.crc32(gram.encode()) % LEXICAL_DIM for gram in grams}
            out[row, list(slots)] = LEXICAL_SCALE / len(slots) ** 0.5
    return out


def load_embedder() -> Embedder:
    if not TABLE.is_file():
        raise FileNotFoundError(f"{TABLE} is missing: python -m community.platform.safety.distill builds it")
    # A plain array over the memory map: pages are read on first touch, and indexing skips np.memmap's overhead.
    return Embedder(minilm.load_tokenizer(), np.asarray(np.load(TABLE, mmap_mode="r")))


def load_head() -> Head:
    return Head.from_json(json.loads(HEAD.read_text(encoding="utf-8")))


class Classifier:
    def __init__(self, embedder: Embedder, head: Head) -> None:
        if head.weights.shape != (EMBEDDING_DIM + LEXICAL_DIM,):
            raise ValueError(f"the head has {head.weights.shape[0]} weights, the features "
                             f"{EMBEDDING_DIM + LEXICAL_DIM}: python -m community.platform.safety.train rebuilds it")
        self.embedder = embedder
        self.head = head
        self.score = functools.lru_cache(maxsize=SENTENCE_CACHE)(self._score)

    def _score(self, sentence: str) -> float:
        """P(crisis) for one sentence (cached by its text)."""
        return self.scores([sentence])[0]

    def scores(self, sentences: list[str]) -> list[float]:
        """P(crisis) for each of sentences, uncached."""
        logits = self.embedder.features(sentences) @ self.head.weights + self.head.bias
        return [float(p) for p in 1.0 / (1.0 + np.exp(-logits))]

    def fires(self, sentence: str) -> bool:
        return self.score(sentence) >= self.head.threshold


_LOADING = threading.Lock()
_LOADED: list[Classifier] = []


def classifier() -> Classifier:
    """The process's one classifier, loaded on first use (by one thread: both screening threads may ask at once)."""
    if not _LOADED:
        with _LOADING:
            if not _LOADED:
                _LOADED.append(Classifier(load_embedder(), load_head()))
    return _LOADED[0]
