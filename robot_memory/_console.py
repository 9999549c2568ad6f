"""Terminal output shared by the command-line tools: rich consoles and result tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ['console', 'emit', 'out', 'table_rows']

console = Console(stderr=True)  # progress, status and errors
out = Console()  # results


def emit(result: dict[str, Any], as_json: bool, title: str) -> None:
    """Print a result as one JSON line, or as a two-column table of its leaves."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + '\n')
        return
    rows = list(table_rows(result))
    table = Table(title=title)
    # The figure's full name, never cut (a pipe's console is 80 columns wide): the value folds.
    table.add_column('figure', no_wrap=True, min_width=max((len(k) for k, _ in rows), default=6))
    table.add_column('value', justify='right', overflow='fold')
    for key, shown in rows:
        table.add_row(key, shown)
    out.print(table)


def table_rows(value: Any, key: str = '') -> Iterator[tuple[str, str]]:
    """(name, text) per leaf: nested figures as `parent.child`, lists of dicts as `name[i].…`,
    lists of plain values joined by commas, floats to four significant digits."""
    if isinstance(value, dict):
        if not value:
            yield key, 'none'
        for k, v in value.items():
            yield from table_rows(v, f'{key}.{k}' if key else str(k))
    elif isinstance(value, list | tuple) and any(isinstance(v, dict | list | tuple)
                                                 for v in value):
        for i, v in enumerate(value):
            yield from table_rows(v, f'{key}[{i}]')
    elif isinstance(value, list | tuple):
        yield key, ', '.join(_scalar(v) for v in value) if value else 'none'
    else:
        yield key, _scalar(value)


def _scalar(value: Any) -> str:
    return f'{value:.4g}' if isinstance(value, float) else str(value)
