"""Distils all-MiniLM-L6-v2 into the static token table the app runs on: `python -m community.platform.safety.distill`.

Each WordPiece token is run through the full transformer on its own ([CLS] token [SEP]) and its output state
becomes its row (the model2vec recipe, without the PCA). A sentence is then the mean of its tokens' rows: a
lookup and a sum instead of a 6-layer forward pass, which is what makes 80 words screen in well under 10 ms on
one core (README, "Crisis detection"). The table is stored as float16 (30,522 x 384, 23 MB) and committed;
`tests/safety/test_semantic.py` re-derives sample rows from the installed model and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from community.platform.safety import minilm

TABLE = Path(__file__).resolve().parent / "model" / "static_table.npy"
BATCH = 512


def token_rows(model: minilm.MiniLM, tokenizer_ids: tuple[int, int], token_ids: np.ndarray) -> np.ndarray:
    """Unit-length output states of each token alone between [CLS] and [SEP]."""
    cls, sep = tokenizer_ids
    ids = np.stack([np.full(len(token_ids), cls), token_ids, np.full(len(token_ids), sep)], axis=1)
    mask = np.ones(ids.shape, np.float32)
    states = minilm.forward(model, ids, mask)[:, 1, :]
    return states / np.linalg.norm(states, axis=1, keepdims=True)


def special_ids() -> tuple[int, int]:
    tokenizer = minilm.load_tokenizer()
    return tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")


def build() -> np.ndarray:
    """The whole table, float16."""
    model = minilm.load_model()
    specials = special_ids()
    vocab = model.words.shape[0]
    table = np.zeros((vocab, minilm.HIDDEN), np.float16)
    for start in range(0, vocab, BATCH):
        ids = np.arange(start, min(vocab, start + BATCH))
        table[ids] = token_rows(model, specials, ids).astype(np.float16)
        print(f"\r{start + len(ids)}/{vocab}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return table


def main() -> None:
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    np.save(TABLE, build())
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
