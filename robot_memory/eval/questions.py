"""How well the parser reads questions people write: `robot-memory eval questions FILE`.

A question file lists questions with the query type and category each should get. Three
formats are read:

- `.tsv` / `.txt`: tab-separated `type`, `category`, `question` (a header line with those
  names is optional; `#` starts a comment line);
- `.jsonl`: one object per line with `question`, `type`, `category`;
- `.yaml` / `.yml`: a list of such mappings.

The score counts a question as typed right when the parse names the expected type, whether
or not every slot could be filled (an unknown room is the memory's vocabulary, not the
parser's reading); `unsure_rate` is the share the parser declined as unsure.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot_memory.config import parse_yaml
from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import QUERY_TYPES, Category
from robot_memory.exceptions import InvalidInputError

__all__ = ['LabelledQuestion', 'evaluate_questions', 'load_questions']


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    """One question with the type and category it should parse into."""

    question: str
    type: str
    category: str
    line: int = 0


def _check(row: LabelledQuestion, path: Path) -> LabelledQuestion:
    where = f'{path}:{row.line}' if row.line else str(path)
    if not row.question.strip():
        raise InvalidInputError(f'{where}: empty question')
    if row.type not in QUERY_TYPES:
        raise InvalidInputError(f'{where}: unknown type {row.type!r}; valid: '
                                f'{", ".join(QUERY_TYPES)}')
    if row.category not in {str(c) for c in Category}:
        raise InvalidInputError(f'{where}: unknown category {row.category!r}; valid: '
                                f'{", ".join(str(c) for c in Category)}')
    return row


def load_questions(path: str | Path) -> list[LabelledQuestion]:
    """Read a labelled question file (see the module docstring); errors name the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f'cannot read the question file {path}: {exc}') from exc
    rows: list[LabelledQuestion] = []
    if path.suffix in ('.yaml', '.yml', '.jsonl', '.json'):
        if path.suffix == '.jsonl':
            try:
                items = [(i, json.loads(line)) for i, line in enumerate(text.splitlines(), 1)
                         if line.strip()]
            except ValueError as exc:
                raise InvalidInputError(f'{path} is not valid jsonl: {exc}') from exc
        else:
            entries = parse_yaml(text, path, 'question file') or []
            if not isinstance(entries, list):
                raise InvalidInputError(f'{path}: a question file is a list of entries')
            items = list(enumerate(entries, 1))
        for i, item in items:
            if not isinstance(item, dict) or not {'question', 'type', 'category'} <= set(item):
                raise InvalidInputError(f'{path}:{i}: each entry needs question, type and '
                                        f'category, got {item!r}')
            rows.append(_check(LabelledQuestion(str(item['question']), str(item['type']),
                                                str(item['category']), i), path))
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            fields = line.rstrip('\r\n').split('\t')
            if [f.strip().lower() for f in fields] == ['type', 'category', 'question']:
                continue
            if len(fields) != 3:
                raise InvalidInputError(f'{path}:{i}: expected 3 tab-separated fields (type, '
                                        f'category, question), got {len(fields)}')
            rows.append(_check(LabelledQuestion(fields[2].strip(), fields[0].strip(),
                                                fields[1].strip(), i), path))
    if not rows:
        raise InvalidInputError(f'{path} holds no questions')
    return rows


def evaluate_questions(path: str | Path, *, now_s: float | None = None,
                       timezone: str = 'UTC', embeddings: bool = True,
                       parser: Any = None) -> dict[str, Any]:
    """Parse every question of a file and score types and categories (a JSON-ready dict)."""
    from robot_memory.language.parser import QuestionParser, Vocabulary

    rows = load_questions(path)
    if parser is None:
        embedder = None
        if embeddings:
            from robot_memory.language.embeddings import default_embedder

            embedder = default_embedder()
        parser = QuestionParser(Vocabulary(), MemoryClock(timezone), embedder)
    now = time.time() if now_s is None else now_s
    load_start = time.perf_counter()
    parser.warm_up()
    load_s = time.perf_counter() - load_start
    start = time.perf_counter()
    results = parser.parse_many([r.question for r in rows], now)
    elapsed = time.perf_counter() - start
    type_ok = category_ok = unsure = 0
    per_type: dict[str, Counter[str]] = {}
    misses = []
    for row, result in zip(rows, results, strict=True):
        summary = result.to_dict()
        got_type, got_category = summary['type'], summary['category']
        counts = per_type.setdefault(row.type, Counter())
        counts['n'] += 1
        unsure += bool(summary.get('unsure'))
        if got_type == row.type:
            type_ok += 1
            counts['ok'] += 1
        if got_category == row.category:
            category_ok += 1
        if got_type != row.type or got_category != row.category:
            misses.append({'line': row.line, 'question': row.question,
                           'expected': {'type': row.type, 'category': row.category},
                           'got': {'type': got_type, 'category': got_category},
                           'error': summary['error'], 'unsure': summary.get('unsure', '')})
    n = len(rows)
    return {
        'file': str(path),
        'questions': n,
        'type_accuracy': round(type_ok / n, 4),
        'category_accuracy': round(category_ok / n, 4),
        'unsure_rate': round(unsure / n, 4),
        'parsed_rate': round(sum(r.ok for r in results) / n, 4),
        'by_type': {t: round(c['ok'] / c['n'], 4) for t, c in sorted(per_type.items())},
        'questions_per_s': round(n / elapsed, 1) if elapsed > 0 else None,
        'warm_up_s': round(load_s, 3),
        'embeddings': parser.embedder is not None,
        'misses': misses,
    }
