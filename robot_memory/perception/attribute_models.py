"""Attribute models behind `AttributeModel`: the built-in pixel reader and a zero-shot one.

`ZeroShotStateModel` reads a segment's state with a CLIP-family image–text model (CLIP,
SigLIP: anything `transformers.AutoModel` loads with `get_image_features` and
`get_text_features`) from a local directory, `local_files_only=True`: nothing is downloaded,
and no weights ship with the project. Each class with states in its cues is asked as "a photo
of a {label} that is {state}" for each of its states; the state whose text the crop's image
embedding is nearest (cosine) wins. transformers and torch are imported on first use.

`make_attribute_model(spec)`: 'pixels' (or empty) is the built-in `PixelStateModel`; a
directory is a zero-shot model.
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

__all__ = ['ZeroShotStateModel', 'make_attribute_model']


class ZeroShotStateModel:
    """States from a zero-shot image–text model loaded from a local directory."""

    def __init__(self, path: str | Path, cues: Mapping[str, StateCue] | None = None,
                 prompt: str = 'a photo of a {label} that is {state}',
                 max_batch: int = 16) -> None:
        path = Path(path)
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
