"""Reading configuration: one YAML reader and one builder of frozen dataclasses from mappings.

`read_yaml(path, what)` is the only place that opens a YAML file: an unreadable file, bad
bytes or bad YAML become one `InvalidInputError` naming the file (and the line). `build(cls,
data, what)` turns a mapping into a dataclass: unknown keys are named with the valid ones,
nested dataclass fields are built from nested mappings, each value is checked against its
field's type (an int serves for a float, tuples come from lists), and whatever the class's own
checks raise comes out as an `InvalidInputError` naming the field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = ['build', 'parse_yaml', 'read_yaml']

T = TypeVar('T')


def read_yaml(path: str | Path, what: str) -> Any:
    """The content of a YAML file (None when empty); raises `InvalidInputError`."""
    try:
        text = Path(path).read_text(encoding='utf-8')
    except OSError as exc:
        raise InvalidInputError(f'cannot read the {what} {path}: {exc.strerror or exc}') \
            from None
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f'cannot read the {what} {path}: not UTF-8 text '
                                f'({exc.reason})') from None
    return parse_yaml(text, path, what)


def parse_yaml(text: str, path: str | Path, what: str) -> Any:
    """YAML text read from `path` (for files read first for another reason)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        line = f' (line {mark.line + 1})' if mark is not None else ''
        problem = getattr(exc, 'problem', None) or str(exc).splitlines()[0]
        raise InvalidInputError(f'cannot read the {what} {path}: not valid YAML{line}: '
                                f'{problem}') from None


def _type_name(tp: Any) -> str:
    return {float: 'a number', int: 'an integer', bool: 'true or false',
            str: 'a string'}.get(tp, getattr(tp, '__name__', str(tp)))


def _check(value: Any, tp: Any, where: str) -> Any:
    """`value` as a value of type `tp` (the simple types and tuples of them)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check(value, option, where)
            except InvalidInputError as exc:
                errors.append(str(exc))
        raise InvalidInputError(errors[0] if errors else f'{where}: a bad value {value!r}')
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise InvalidInputError(f'{where} must be a list, got {value!r}')
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_check(v, item, f'{where}[{i}]') for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        return build(tp, value, where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f'{where} must be a number, got {value!r}')
        return float(value)
    if tp in (int, bool, str):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise InvalidInputError(f'{where} must be {_type_name(tp)}, got {value!r}')
        return value
    return value  # Mapping fields and the like: the class checks them itself


def check_field(cls: type, name: str, value: Any, where: str) -> Any:
    """`value` checked and converted as the field `name` of the dataclass `cls`, as `build` does.

    For callers that validate one field at a time (a node parameter set while running).
    """
    return _check(value, typing.get_type_hints(cls)[name], where)


def build(cls: type[T], data: Any, what: str, *, sep: str = '.') -> T:
    """A `cls` dataclass from a mapping; raises `InvalidInputError` naming the field.

    A field is named `<what><sep><key>` in messages ("scenario.camera.width_px",
    "parameter width_px" with `sep=' '`).
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f'{what} must be a mapping of settings, got {data!r}')
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in data:
        if key not in names:
            raise InvalidInputError(f'{what}: unknown key {key!r}; valid: {", ".join(names)}')
    kwargs = {key: _check(value, hints[key], f'{what}{sep}{key}' if what else key)
              for key, value in data.items()}
    try:
        return cls(**kwargs)
    except RobotMemoryError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f'{what}: {exc}') from None
