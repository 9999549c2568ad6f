"""Categories of object classes ("drink", "fruit", "toy"), read from `config/taxonomy.yaml`.

A category lists classes and other categories; `members('food')` follows the nesting, so a
question about food finds apples. The query engine uses it to match a target or a filter that
names a category instead of a class; the parser adds the category names to its vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from robot_memory.exceptions import InvalidInputError

__all__ = ['Taxonomy', 'default_affordances', 'default_taxonomy', 'default_taxonomy_path',
           'load_affordances']


def _name(word: str) -> str:
    return '_'.join(str(word).strip().lower().replace('-', ' ').split())


class Taxonomy:
    """Category name → the classes it covers (nested categories expanded)."""

    def __init__(self, categories: Mapping[str, Iterable[str]] | None = None) -> None:
        raw: dict[str, tuple[str, ...]] = {}
        for name, members in (categories or {}).items():
            if isinstance(members, str) or not isinstance(members, Iterable):
                raise InvalidInputError(f'taxonomy category {name!r} must list class names, '
                                        f'got {members!r}')
            key = _name(name)
            if not key:
                raise InvalidInputError(f'taxonomy category names must be non-empty: {name!r}')
            raw[key] = tuple(_name(m) for m in members if _name(m))
        self._raw = raw
        self._expanded = {name: frozenset(self._expand(name, ())) for name in raw}
        self._classes = frozenset().union(*self._expanded.values())

    def _expand(self, name: str, path: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        for member in self._raw.get(name, ()):
            if member in self._raw and member != name and member not in path:
                out |= self._expand(member, (*path, name))
            else:
                out.add(member)
        return out

    @classmethod
    def from_yaml(cls, path: str | Path) -> Taxonomy:
        """Read a YAML mapping category → list of classes; errors name the file."""
        path = Path(path)
        data = _read_mapping(path, 'taxonomy')
        if not isinstance(data, dict):
            raise InvalidInputError(f'taxonomy {path} must be a mapping category → classes, '
                                    f'got {type(data).__name__}')
        try:
            return cls(data)
        except InvalidInputError as exc:
            raise InvalidInputError(f'taxonomy {path}: {exc}') from exc

    @property
    def categories(self) -> tuple[str, ...]:
        """The category names, sorted."""
        return tuple(sorted(self._raw))

    @property
    def classes(self) -> frozenset[str]:
        """Every class some category lists."""
        return self._classes

    def is_category(self, word: str) -> bool:
        """Whether a word names a category."""
        return _name(word) in self._expanded

    def members(self, word: str) -> frozenset[str]:
        """The classes a word covers: a category's classes (the category itself included when
        it is also a class, like 'toy'), or just the word."""
        key = _name(word)
        if key in self._expanded:
            return self._expanded[key] | {key}
        return frozenset({key})

    def categories_of(self, label: str) -> tuple[str, ...]:
        """The categories that cover a class, sorted."""
        key = _name(label)
        return tuple(sorted(n for n, m in self._expanded.items() if key in m))


def _read_mapping(path: Path, what: str) -> Any:
    """A YAML file's content ({} when empty); an unreadable file is one clear error."""
    from robot_memory.config import read_yaml

    data = read_yaml(path, what)
    return {} if data is None else data


def default_taxonomy_path() -> Path:
    """`config/taxonomy.yaml` of the install or the source tree."""
    from robot_memory.ros.paths import share_file  # a path lookup only: no ROS needed

    return share_file('config', 'taxonomy.yaml')


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy (empty when the file is not installed)."""
    path = default_taxonomy_path()
    return Taxonomy.from_yaml(path) if path.is_file() else Taxonomy()


def load_affordances(path: str | Path) -> dict[str, str]:
    """Read a YAML mapping class or room category → what it is for (a short phrase)."""
    path = Path(path)
    data = _read_mapping(path, 'affordances')
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidInputError(f'affordances {path} must map names to short phrases')
    return {_name(k): str(v).strip() for k, v in data.items() if _name(k)}


@lru_cache(maxsize=1)
def default_affordances() -> dict[str, str]:
    """The shipped `config/affordances.yaml` (empty when not installed)."""
    from robot_memory.ros.paths import share_file

    path = share_file('config', 'affordances.yaml')
    return load_affordances(path) if path.is_file() else {}
