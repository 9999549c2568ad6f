"""Optional language-model backends that rephrase a question the rules could not read.

Never required: the parser works without them, and nothing here downloads weights. Two
backends implement the `LLMBackend` protocol:

- `OpenAICompatibleBackend`: an OpenAI-compatible HTTP server the user runs (llama.cpp server,
  vLLM, Ollama, …), spoken to with the standard library only (`urllib`);
- `TransformersBackend`: a causal language model in a local directory, through `transformers`
  (imported on first use, `local_files_only=True`).

A rephrased question is parsed again by the same rules, and the parse result records the
rephrasing (`matched['rephrased']`) so an answer can say how the question was understood.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = [
    'REPHRASE_PROMPT',
    'LLMBackend',
    'LLMBackendError',
    'OpenAICompatibleBackend',
    'TransformersBackend',
    'first_line',
]

_LOG = logging.getLogger(__name__)

REPHRASE_PROMPT = (
    'You rewrite a question that a person asks a home robot into one plain question. Use '
    'exactly one of these forms: "Where is the X?", "Where was the X on DAY?", "When did you '
    'last see the X?", "How many Xs are in the ROOM?", "Is the X open?" (or closed, on, off), '
    '"What is in the ROOM?", "What changed since DAY?", "Where is the X usually?", "When did '
    'the X first appear?". Keep the object, colour, room and time words of the question. Reply '
    'with the rewritten question only, on one line. If it fits none of the forms, reply UNKNOWN.'
)


class LLMBackendError(RobotMemoryError):
    """A language-model backend could not be reached or gave no usable answer."""


@runtime_checkable
class LLMBackend(Protocol):
    """Anything that can rephrase a question into one the rules can read."""

    def rephrase(self, question: str) -> str:
        """A plainer wording of `question`."""
        ...


def first_line(text: str) -> str:
    """The first non-empty line of a model's reply, without quotes around it."""
    for line in text.splitlines():
        line = line.strip().strip('"\'`').strip()
        if line:
            return line
    return ''


class OpenAICompatibleBackend:
    """`POST {base_url}/v1/chat/completions` on a server the user runs; standard library only."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 timeout_s: float = 10.0, *, system_prompt: str = REPHRASE_PROMPT,
                 max_tokens: int = 64) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ('http', 'https') or not parts.netloc:
            raise InvalidInputError(
                f'base_url must be an http(s) URL such as "http://127.0.0.1:8080", '
                f'got {base_url!r}')
        if timeout_s <= 0:
            raise InvalidInputError(f'timeout_s must be > 0, got {timeout_s}')
        root = base_url.rstrip('/')
        self.url = f'{root}/chat/completions' if root.endswith('/v1') else \
            f'{root}/v1/chat/completions'
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.system_prompt = system_prompt
        self.max_tokens = max_tokens

    def chat(self, messages: list[dict[str, str]]) -> str:
        """Send chat messages; the assistant's reply text."""
        body = json.dumps({'model': self.model, 'messages': messages, 'temperature': 0,
                           'max_tokens': self.max_tokens}).encode()
        headers = {'Content-Type': 'application/json', 'Accept': 'application/json'}
        if self.api_key:
            headers['Authorization'] = f'Bearer {self.api_key}'
        request = urllib.request.Request(self.url, data=body, headers=headers, method='POST')
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode('utf-8', 'replace').strip()
            raise LLMBackendError(f'{self.url} answered HTTP {exc.code}: {detail}') from exc
        except TimeoutError as exc:
            raise LLMBackendError(
                f'{self.url} did not answer within {self.timeout_s:g} s') from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise LLMBackendError(
                    f'{self.url} did not answer within {self.timeout_s:g} s') from exc
            raise LLMBackendError(f'cannot reach {self.url}: {exc.reason}') from exc
        try:
            content = json.loads(raw)['choices'][0]['message']['content']
            if not isinstance(content, str):
                raise TypeError('content is not a string')
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMBackendError(
                f'{self.url} returned no chat completion: {raw[:200]!r}') from exc
        return content

    def rephrase(self, question: str) -> str:
        """A plainer wording of `question` from the server's model."""
        reply = self.chat([{'role': 'system', 'content': self.system_prompt},
                           {'role': 'user', 'content': question}])
        return first_line(reply)


class TransformersBackend:
    """A local causal language model directory, run greedily through `transformers`."""

    def __init__(self, model_path: str | Path, *, max_new_tokens: int = 48,
                 system_prompt: str = REPHRASE_PROMPT) -> None:
        self.model_path = Path(model_path)
        if not (self.model_path / 'config.json').is_file():
            raise InvalidInputError(
                f'no language model at {self.model_path} (config.json missing); pass the '
                'directory of a model saved with save_pretrained')
        self.max_new_tokens = max_new_tokens
        self.system_prompt = system_prompt
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault('HF_HUB_OFFLINE', '1')
            _LOG.info('loading the language model from %s…', self.model_path)
            try:
                import transformers
            except ImportError as exc:
                raise LLMBackendError(
                    'the transformers backend needs torch and transformers installed') from exc
            path = str(self.model_path)
            try:
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                    path, local_files_only=True)
                # transformers leaves the model's `eval` unannotated.
                self._model = transformers.AutoModelForCausalLM.from_pretrained(
                    path, local_files_only=True).eval()  # type: ignore[no-untyped-call]
            except (OSError, ValueError) as exc:
                raise LLMBackendError(f'cannot load a language model from {path}: {exc}') \
                    from exc
            _LOG.info('loaded language model from %s', path)

    def rephrase(self, question: str) -> str:
        """A plainer wording of `question` from the local model (greedy decoding)."""
        self._load()
        import torch

        tok = self._tokenizer
        if getattr(tok, 'chat_template', None):
            messages = [{'role': 'system', 'content': self.system_prompt},
                        {'role': 'user', 'content': question}]
            prompt = tok.apply_chat_template(messages, add_generation_prompt=True,
                                             tokenize=False)
        else:
            prompt = f'{self.system_prompt}\n\nQuestion: {question}\nRewritten question:'
        inputs = tok(prompt, return_tensors='pt')
        with torch.inference_mode():
            output = self._model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
                else tok.eos_token_id)
        new_tokens = output[0][inputs['input_ids'].shape[1]:]
        return first_line(tok.decode(new_tokens, skip_special_tokens=True))
