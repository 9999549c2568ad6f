"""Small shims so the package runs on Python 3.10 as well as 3.11+."""

from __future__ import annotations

import enum
import sys

__all__ = ['StrEnum']

if sys.version_info >= (3, 11):
    StrEnum = enum.StrEnum
else:

    class StrEnum(str, enum.Enum):
        """A str-valued Enum whose str() is its value, as in Python 3.11."""

        def __str__(self) -> str:
            return str(self.value)
