"""Attribute models behind `AttributeModel`: the built-in pixel reader and a zero-shot one.

`ZeroShotStateModel` reads a segment's state with a CLIP-family image–text model (CLIP,
SigLIP: anything `transformers.AutoModel` loads with `get_image_features` and
`get_text_features`) from a local directory, `local_files_only=True`: nothing is downloaded,
and no weights ship with the project. Each class with states in its cues is asked as "a photo
of a {label} that is {state}" for each of its states; the state whose text the crop's image
embedding is nearest (cosine) wins. transformers and torch are imported on first use.

`make_attribute_model(spec)`: 'pixels' (or empty) is the built-in `PixelStateModel`; a
directory is a zero-shot model. `save_random_clip(dir)` writes a tiny, randomly initialised
CLIP there: its answers mean nothing; it exists so that the loading and inference code can be
tested and timed without any weights (`bench ingest --attribute-model tiny`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.attributes import (
    STATE_CUES,
    AttributeModel,
    PixelStateModel,
    SegmentPixels,
    StateCue,
)

__all__ = ['ZeroShotStateModel', 'make_attribute_model', 'save_random_clip']


class ZeroShotStateModel:
    """States from a zero-shot image–text model loaded from a local directory."""

    def __init__(self, path: str | Path, cues: Mapping[str, StateCue] | None = None,
                 prompt: str = 'a photo of a {label} that is {state}',
                 max_batch: int = 16, read_error: float = 0.1) -> None:
        path = Path(path)
        # Unmeasured for whatever model is given: one read in ten taken as wrong.
        self.read_error = read_error
        if not path.is_dir():
            raise InvalidInputError(f'attribute model {path}: not a directory (a CLIP-family '
                                    'model saved with save_pretrained)')
        try:
            import torch
            import transformers
        except ImportError as exc:  # pragma: no cover - both are in requirements.txt
            raise InvalidInputError(f'the zero-shot attribute model needs torch and '
                                    f'transformers: {exc}') from None
        self._torch = torch
        try:
            self._model = transformers.AutoModel.from_pretrained(str(path),
                                                                 local_files_only=True).eval()
            self._processor = transformers.AutoProcessor.from_pretrained(  # type: ignore[no-untyped-call]
                str(path), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInputError(f'attribute model {path}: cannot load ({exc})') from None
        for method in ('get_image_features', 'get_text_features'):
            if not hasattr(self._model, method):
                raise InvalidInputError(f'attribute model {path}: {type(self._model).__name__} '
                                        f'is not an image-text model (no {method})')
        self.path = path
        self.cues = dict(cues if cues is not None else STATE_CUES)
        self.prompt = prompt
        self.max_batch = max(int(max_batch), 1)
        self._texts: dict[str, Any] = {}  # label → normalised text embeddings of its states

    def knows(self, label: str) -> bool:
        """Whether the model is asked about this class's state."""
        return label in self.cues

    def states(self, segments: Sequence[SegmentPixels]) -> list[str]:
        """One state per segment ('' for classes without states or without a crop)."""
        out = [''] * len(segments)
        asked = [i for i, s in enumerate(segments)
                 if s.label in self.cues and s.crop is not None and s.crop.size]
        for start in range(0, len(asked), self.max_batch):
            batch = asked[start:start + self.max_batch]
            images = [np.ascontiguousarray(segments[i].crop) for i in batch]
            with self._torch.no_grad():
                pixels = self._processor(images=images, return_tensors='pt')
                emb = _features(self._model.get_image_features(**pixels))
                emb = emb / emb.norm(dim=-1, keepdim=True).clamp_min(1e-9)
            for row, i in enumerate(batch):
                label = segments[i].label
                scores = emb[row] @ self._text(label).T
                out[i] = self.cues[label].states[int(scores.argmax())]
        return out

    def _text(self, label: str) -> Any:
        if label not in self._texts:
            texts = [self.prompt.format(label=label.replace('_', ' '), state=state)
                     for state in self.cues[label].states]
            with self._torch.no_grad():
                tokens = self._processor(text=texts, return_tensors='pt', padding=True)
                emb = _features(self._model.get_text_features(**tokens))
            self._texts[label] = emb / emb.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        return self._texts[label]

    def guesses(self, segments: Sequence[SegmentPixels]) -> list[str]:
        """No guesses beyond its reads: it reads every view it can."""
        return [''] * len(segments)


def _features(out: Any) -> Any:
    """The embedding tensor of a `get_*_features` result (a tensor, or an output object)."""
    if hasattr(out, 'pooler_output') and out.pooler_output is not None:
        return out.pooler_output
    return out


def make_attribute_model(spec: str | Path | None) -> AttributeModel:
    """'pixels' / '' / None: the built-in model; a directory: a zero-shot model in it."""
    if spec is None or str(spec) in ('', 'pixels'):
        return PixelStateModel()
    return ZeroShotStateModel(spec)


def save_random_clip(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny randomly initialised CLIP (model, tokenizer, image processor) to `path`.

    Its vocabulary is one token per byte (a byte-level BPE with no merges), its towers one
    layer of width 16: enough to run every code path, nothing learned.
    """
    import json

    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizer,
    )

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    # The printable bytes stand for themselves; the others get code points past 255.
    codes = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = [chr(c) for c in codes] + [chr(256 + i) for i in range(256 - len(codes))]
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + '</w>': len(chars) + i for i, c in enumerate(chars)})
    vocab['<|startoftext|>'], vocab['<|endoftext|>'] = len(vocab), len(vocab) + 1
    (path / 'vocab.json').write_text(json.dumps(vocab))
    (path / 'merges.txt').write_text('#version: 0.2\n')
    tokenizer = CLIPTokenizer(str(path / 'vocab.json'), str(path / 'merges.txt'))
    layers = {'hidden_size': 16, 'intermediate_size': 32, 'num_hidden_layers': 1,
              'num_attention_heads': 2}
    config = CLIPConfig(text_config={'vocab_size': len(vocab), 'max_position_embeddings': 64,
                                     **layers},
                        vision_config={'image_size': 32, 'patch_size': 8, **layers},
                        projection_dim=8)
    CLIPModel(config).save_pretrained(path)
    images = CLIPImageProcessor(size={'shortest_edge': 32},
                                crop_size={'height': 32, 'width': 32})
    processor = CLIPProcessor(image_processor=images,  # type: ignore[no-untyped-call]
                              tokenizer=tokenizer)
    processor.save_pretrained(path)
    return path
