"""The language package's files by job: its data modules hold data only, and the names callers
import from the parser module before it was split are still there."""

import ast
from pathlib import Path

import pytest

LANGUAGE = Path(__file__).resolve().parents[1] / 'robot_memory' / 'language'


@pytest.mark.parametrize('module', ['lexicon', 'cues', 'timegrammar'])
def test_data_modules_define_no_functions_or_classes(module: str) -> None:
    tree = ast.parse((LANGUAGE / f'{module}.py').read_text())
    defined = [node.name for node in tree.body
               if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    assert defined == []


def test_the_parser_module_still_exports_what_callers_import() -> None:
    from robot_memory.language import parser

    for name in ('DEFAULT_COLORS', 'DEFAULT_LABELS', 'DEFAULT_ROOMS', 'DEFAULT_STATES',
                 'ParseResult', 'QuestionParser', 'Vocabulary'):
        assert hasattr(parser, name), name
    assert set(parser.__all__) >= {'QuestionParser', 'Vocabulary', 'DEFAULT_LABELS'}
