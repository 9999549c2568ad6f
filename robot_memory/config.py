"""Reading configuration: one YAML reader and one builder of frozen dataclasses from mappings.

`read_yaml(path, what)` is the only place that opens a YAML file: an unreadable file, bad
bytes or bad YAML become one `InvalidInputError` naming the file (and the line). `build(cls,
data, what)` turns a mapping into a dataclass: unknown keys are named with the valid ones,
nested dataclass fields are built from nested mappings, each value is checked against its
field's type (an int serves for a float, tuples come from lists), and whatever the class's own
checks raise comes out as an `InvalidInputError` naming the field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = ['build', 'errors_name', 'parse_yaml', 'read_yaml']

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


MAX_YAML_DEPTH = 64
"""Nesting limit: the deepest file the project reads nests 5 levels; PyYAML's composer recurses
3 frames a level and hit Python's recursion limit at ~330 (red-team #29, row 10)."""
MAX_YAML_NODES = 1_000_000
"""Nodes after aliases are expanded: a nine-level alias bomb of 9 expands to 387 million."""
MAX_YAML_BYTES = 16 * 1024 * 1024


@contextlib.contextmanager
def errors_name(path: str | Path) -> Iterator[None]:
    """Prefix `path` to an `InvalidInputError` raised inside that does not name it yet.

    For the checks that run after a file is read: "miss_rate must be in [0, 1]" says what,
    and the file it came from says where.
    """
    try:
        yield
    except InvalidInputError as exc:
        if str(path) in str(exc):
            raise
        raise InvalidInputError(f'{path}: {exc}') from None


def parse_yaml(text: str, path: str | Path, what: str) -> Any:
    """YAML text read from `path` (for files read first for another reason).

    Bounded: a document larger than `MAX_YAML_BYTES`, nested deeper than `MAX_YAML_DEPTH` or
    whose aliases expand past `MAX_YAML_NODES` nodes is refused before it is built.
    """
    import yaml

    def fail(problem: str) -> InvalidInputError:
        return InvalidInputError(f'cannot read the {what} {path}: {problem}')

    if len(text) > MAX_YAML_BYTES:
        raise fail(f'{len(text)} characters (at most {MAX_YAML_BYTES})')
    if (text.count('[') + text.count('{') > MAX_YAML_DEPTH
            and (depth := _flow_depth(text)) > MAX_YAML_DEPTH):
        # Checked before scanning: PyYAML's scanner is quadratic in flow depth (3 000 '['
        # took 0.5 s, 100 000 would take minutes), so the composer's own check comes too late.
        raise fail(f'nested {depth} levels deep (at most {MAX_YAML_DEPTH})')
    loader = None
    try:
        loader = _bounded_loader()(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, fail)
        return loader.construct_document(node)
    except _TooDeep as exc:
        raise fail(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        line = f' (line {mark.line + 1})' if mark is not None else ''
        problem = getattr(exc, 'problem', None) or str(exc).splitlines()[0]
        raise fail(f'not valid YAML{line}: {problem}') from None
    except (RecursionError, MemoryError):
        raise fail('too deeply nested or too large to read') from None
    finally:
        if loader is not None:
            loader.dispose()


_QUOTED_OR_COMMENT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|\'[^\']*(?:\'\'[^\']*)*\'|#[^\n]*')
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')


def _flow_depth(text: str) -> int:
    """The deepest nesting of flow collections ([ ], { }), quoted text and comments aside."""
    from robot_memory.bounded import json_depth

    return json_depth(_NOT_BRACKET.sub('', _QUOTED_OR_COMMENT.sub('', text)))


class _TooDeep(Exception):
    """Raised inside the composer; becomes the caller's `InvalidInputError`."""


@functools.cache
def _bounded_loader() -> type:
    """A SafeLoader that refuses nesting deeper than `MAX_YAML_DEPTH` while composing."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > MAX_YAML_DEPTH:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise _TooDeep(f'nested deeper than {MAX_YAML_DEPTH} levels '
                                         f'(line {mark.line + 1})')
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _check_expansion(root: Any, fail: Any) -> None:
    """Refuse a node graph whose aliases expand too far, or deeper than allowed, or loop."""
    import yaml

    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, expanded depth)
    stack: list[tuple[Any, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        if done:
            open_nodes.discard(key)
            count = 1 + sum(sizes[id(c)][0] for c in children)
            depth = 1 + max((sizes[id(c)][1] for c in children), default=0)
            if count > MAX_YAML_NODES:
                raise fail(f'aliases expand to more than {MAX_YAML_NODES} nodes')
            if depth > MAX_YAML_DEPTH:
                raise fail(f'aliases nest it deeper than {MAX_YAML_DEPTH} levels')
            sizes[key] = (count, depth)
            continue
        if key in open_nodes:
            raise fail('an alias refers to the node that contains it')
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise fail('an alias refers to the node that contains it')
            if id(child) not in sizes:
                stack.append((child, False))


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
