"""Terminal output shared by the command-line tools: rich consoles and result tables."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ['console', 'emit', 'out']

console = Console(stderr=True)  # progress, status and errors
out = Console()  # results


def emit(result: dict[str, Any], as_json: bool, title: str) -> None:
    """Print a result as one JSON line, or as a two-column table."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + '\n')
        return
    table = Table(title=title)
    table.add_column('figure')
    table.add_column('value', justify='right')
    for key, value in result.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else (
            f'{value:.4g}' if isinstance(value, float) else str(value))
        table.add_row(key, shown)
    out.print(table)
