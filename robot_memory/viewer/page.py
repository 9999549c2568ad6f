"""One self-contained HTML page: the data, the script and the style inlined.

The page needs no network at view time. Its Content-Security-Policy allows only the inlined
script (by its SHA-256) and, when served live, requests to its own origin; the data sits in a
`application/json` script element that is never executed, and every text the script puts on
the page goes through `textContent`, so a label stored in memory cannot inject markup.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from robot_memory.core.episodic import EpisodicMemory
from robot_memory.viewer.data import view_data

__all__ = ['content_policy', 'data_json', 'render_page', 'write_view']

_PLACEHOLDER = re.compile(r'\{(csp|title|css|live|data|js)\}')


@functools.cache
def _asset(name: str) -> str:
    return resources.files('robot_memory.viewer').joinpath('assets', name).read_text('utf-8')


# Written as JSON escapes, these characters cannot end the data's `<script>` element (`</`),
# switch the HTML parser into its escaped state (`<!--`), or be read as markup or line ends;
# the JSON still parses to the same text. `<\!--` (the former escape) is not JSON: a label
# holding `<!--` left the page blank ("Bad escaped character in JSON", red-team #29 row 7).
_SCRIPT_SAFE = str.maketrans({'<': '\\u003c', '>': '\\u003e', '&': '\\u0026',
                              '\u2028': '\\u2028', '\u2029': '\\u2029'})


def data_json(data: dict[str, Any]) -> str:
    """The data as JSON that is inert inside a `<script>` element (no `<`, `>`, `&`, NaN)."""
    text = json.dumps(data, separators=(',', ':'), allow_nan=False, ensure_ascii=False)
    return text.translate(_SCRIPT_SAFE)


def content_policy(live: bool = False) -> str:
    """The page's Content-Security-Policy: its own script (by hash), and its server if live."""
    digest = base64.b64encode(hashlib.sha256(_asset('viewer.js').encode('utf-8')).digest())
    csp = f"default-src 'none'; script-src 'sha256-{digest.decode()}'; style-src 'unsafe-inline'"
    return csp + "; connect-src 'self'" if live else csp


def render_page(data: dict[str, Any], live: bool = False) -> str:
    """The viewer page for `data` (from `view_data`); `live` shows the ask box."""
    js = _asset('viewer.js')
    csp = content_policy(live)
    values = {'csp': csp, 'title': html.escape(str(data.get('title', 'robot memory'))),
              'css': _asset('viewer.css'), 'live': '1' if live else '0',
              'data': data_json(data), 'js': js}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset('page.html'))


def write_view(memory: EpisodicMemory, out: Path, title: str = 'robot memory',
               **options: Any) -> Path:
    """Write the viewer page of `memory` to `out`; returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(view_data(memory, title=title, **options)), encoding='utf-8')
    return out
