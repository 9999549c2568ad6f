"""Tests of the optional LLM backends: a real HTTP server on 127.0.0.1, and a local model."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import Target, WhereIs
from robot_memory.exceptions import InvalidInputError
from robot_memory.language import (
    REPHRASE_PROMPT,
    LLMBackend,
    LLMBackendError,
    OpenAICompatibleBackend,
    QuestionParser,
    TransformersBackend,
    Vocabulary,
)
from robot_memory.language.llm import first_line

NOW_S = 1793577600.0 + 4 * 86400.0 + 15 * 3600.0


class _ChatServer:
    """A tiny OpenAI-style chat server; `reply` decides status and body per request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.body: bytes = b''
        self.delay_s = 0.0
        self.answer = 'Where is the backpack?'
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get('Content-Length', 0))
                server.requests.append({
                    'path': self.path,
                    'headers': dict(self.headers),
                    'json': json.loads(self.rfile.read(length)),
                })
                time.sleep(server.delay_s)
                body = server.body or json.dumps({'choices': [
                    {'index': 0, 'message': {'role': 'assistant', 'content': server.answer}}
                ]}).encode()
                try:
                    self.send_response(server.status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The timeout test's client has already hung up.
                    pass

            def log_message(self, *args: Any) -> None:
                # Keep the test output clean; requests are recorded above.
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)

    def __enter__(self) -> _ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[_ChatServer]:
    with _ChatServer() as running:
        yield running


def test_backend_posts_a_chat_completion_and_returns_the_reply(server: _ChatServer) -> None:
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', api_key='sk-test', timeout_s=5)
    assert backend.rephrase('yo where did my bag go') == 'Where is the backpack?'
    (request,) = server.requests
    assert request['path'] == '/v1/chat/completions'
    assert request['headers']['Authorization'] == 'Bearer sk-test'
    assert request['headers']['Content-Type'] == 'application/json'
    assert request['json'] == {
        'model': 'tiny-model', 'temperature': 0, 'max_tokens': 64,
        'messages': [{'role': 'system', 'content': REPHRASE_PROMPT},
                     {'role': 'user', 'content': 'yo where did my bag go'}],
    }


def test_a_base_url_ending_in_v1_is_not_doubled(server: _ChatServer) -> None:
    backend = OpenAICompatibleBackend(f'{server.url}/v1/', 'tiny-model', timeout_s=5)
    backend.rephrase('where my keys')
    assert server.requests[0]['path'] == '/v1/chat/completions'
    assert 'Authorization' not in server.requests[0]['headers']


def test_only_the_first_line_of_the_reply_is_kept(server: _ChatServer) -> None:
    server.answer = '\n  "Where is the mug?"\nI rewrote your question.'
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', timeout_s=5)
    assert backend.rephrase('mug?') == 'Where is the mug?'


def test_the_parser_uses_the_http_backend_for_a_question_it_cannot_read(
        server: _ChatServer) -> None:
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', timeout_s=5)
    assert isinstance(backend, LLMBackend)
    parser = QuestionParser(Vocabulary(), MemoryClock(), backend=backend)
    result = parser.parse('Tell me about the bag I carry to work', NOW_S)
    assert result.query == WhereIs(Target('backpack', text='backpack'))
    assert result.matched['rephrased'] == 'Where is the backpack?'


def test_an_http_error_names_the_status_and_the_body(server: _ChatServer) -> None:
    server.status, server.body = 500, b'model exploded'
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', timeout_s=5)
    with pytest.raises(LLMBackendError) as excinfo:
        backend.rephrase('where is the mug')
    assert str(excinfo.value) == f'{server.url}/v1/chat/completions answered HTTP 500: ' \
                                 'model exploded'


def test_a_reply_that_is_not_a_chat_completion_is_an_error(server: _ChatServer) -> None:
    server.body = b'{"choices": []}'
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', timeout_s=5)
    with pytest.raises(LLMBackendError) as excinfo:
        backend.rephrase('where is the mug')
    assert str(excinfo.value) == (f'{server.url}/v1/chat/completions returned no chat '
                                  "completion: b'{\"choices\": []}'")


def test_a_slow_server_times_out(server: _ChatServer) -> None:
    server.delay_s = 1.0
    backend = OpenAICompatibleBackend(server.url, 'tiny-model', timeout_s=0.2)
    with pytest.raises(LLMBackendError) as excinfo:
        backend.rephrase('where is the mug')
    assert str(excinfo.value) == (f'{server.url}/v1/chat/completions did not answer within '
                                  '0.2 s')


def test_an_unreachable_server_is_an_error() -> None:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    backend = OpenAICompatibleBackend(f'http://127.0.0.1:{port}', 'tiny-model', timeout_s=2)
    with pytest.raises(LLMBackendError) as excinfo:
        backend.rephrase('where is the mug')
    assert str(excinfo.value).startswith(
        f'cannot reach http://127.0.0.1:{port}/v1/chat/completions: ')


@pytest.mark.parametrize('url', ['ftp://example.org', '127.0.0.1:8080', ''])
def test_the_base_url_must_be_http(url: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        OpenAICompatibleBackend(url, 'tiny-model')
    assert str(excinfo.value) == ('base_url must be an http(s) URL such as '
                                  f'"http://127.0.0.1:8080", got {url!r}')


@pytest.mark.parametrize(('reply', 'line'), [
    ('Where is the mug?', 'Where is the mug?'),
    ('\n\n  "Where is the mug?"  \nmore', 'Where is the mug?'),
    ('`Where is it?`', 'Where is it?'),
    ('', ''),
])
def test_first_line_strips_quotes_and_blank_lines(reply: str, line: str) -> None:
    assert first_line(reply) == line


def test_transformers_backend_needs_a_model_directory(tmp_path) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        TransformersBackend(tmp_path)
    assert str(excinfo.value) == (f'no language model at {tmp_path} (config.json missing); '
                                  'pass the directory of a model saved with save_pretrained')


@pytest.mark.skipif(not os.environ.get('ROBOT_MEMORY_LLM_PATH'),
                    reason='set ROBOT_MEMORY_LLM_PATH to a local causal language model '
                           'directory to run this test (no model ships with the package)')
def test_transformers_backend_rephrases_with_a_local_model() -> None:
    pytest.importorskip('transformers', reason='the transformers backend needs transformers')
    backend = TransformersBackend(os.environ['ROBOT_MEMORY_LLM_PATH'], max_new_tokens=24)
    reply = backend.rephrase('yo, any clue where my rucksack went?')
    assert reply
    assert '\n' not in reply
