"""Tests of the package layout: manifest, setup data files, README commands, CI script."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_package_xml_is_format_3_ament_python() -> None:
    root = ET.parse(ROOT / 'package.xml').getroot()
    assert root.get('format') == '3'
    assert root.findtext('name') == 'robot_memory'
    assert root.find('export/build_type').text == 'ament_python'
    depends = {e.text for e in root.iter('exec_depend')}
    assert {'rclpy', 'sensor_msgs', 'visualization_msgs', 'python3-numpy'} <= depends


def test_versions_agree() -> None:
    xml_version = ET.parse(ROOT / 'package.xml').getroot().findtext('version')
    setup_src = (ROOT / 'setup.py').read_text()
    init_src = (ROOT / 'robot_memory' / '__init__.py').read_text()
    assert f"version='{xml_version}'" in setup_src
    assert f"__version__ = '{xml_version}'" in init_src


def test_the_layout_of_the_design_is_visible() -> None:
    for folder in ('robot_memory/core', 'robot_memory/perception', 'robot_memory/language',
                   'robot_memory/sim', 'robot_memory/eval', 'robot_memory/ros', 'launch',
                   'config', 'sim', 'tests', 'rviz'):
        assert (ROOT / folder).is_dir(), folder
    assert (ROOT / 'resource' / 'robot_memory').is_file()
    assert (ROOT / 'robot_memory' / 'py.typed').is_file()


def test_console_scripts_point_at_real_functions() -> None:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    scripts = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str)
               and re.match(r'^[\w-]+ = robot_memory[\w.]*:\w+$', node.value)]
    assert scripts, 'setup.py declares no console scripts'
    for script in scripts:
        _, target = script.split(' = ')
        module, func = target.split(':')
        path = ROOT / (module.replace('.', '/') + '.py')
        src = ast.parse(path.read_text())
        names = {n.name for n in src.body if isinstance(n, ast.FunctionDef)}
        assert func in names, f'{script}: {func} not defined in {path}'


def test_core_never_imports_rclpy_or_open3d() -> None:
    for path in (ROOT / 'robot_memory').rglob('*.py'):
        text = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith('robot_memory/ros/'):
            assert not re.search(r'^\s*(import|from) rclpy', text, re.M), rel
        if rel.startswith('robot_memory/core/'):
            assert not re.search(r'^\s*(import|from) open3d', text, re.M), rel
        assert not re.search(r'\bpickle\b', text), rel


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / 'README.md').read_text()
    blocks = re.findall(r'```(?:bash|sh)\n(.*?)```', readme, re.S)
    assert blocks, 'README has no shell block'
    first = [line.split('#')[0].strip() for line in blocks[0].splitlines()
             if line.strip() and not line.startswith('#')]
    assert first == ['make demo', 'make test']
    assert 'make test' in (ROOT / '.ci' / 'run').read_text()


def test_readme_python_examples_run() -> None:
    readme = (ROOT / 'README.md').read_text()
    examples = re.findall(r'```python\n(.*?)```', readme, re.S)
    assert examples, 'README has no Python example'
    for code in examples:
        exec(compile(code, 'README.md', 'exec'), {'__name__': 'readme_example'})


MAX_MODULE_LINES = 600


def test_no_module_does_more_than_one_files_worth() -> None:
    long = {path.relative_to(ROOT).as_posix(): n
            for path in (ROOT / 'robot_memory').rglob('*.py')
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f'split these by job (over {MAX_MODULE_LINES} lines): {long}'


def test_readme_layout_table_names_real_paths() -> None:
    readme = (ROOT / 'README.md').read_text()
    table = readme.split('| path | what lives there |', 1)[1].split('\n\n', 1)[0]
    paths = [p for row in table.splitlines()[2:]
             for p in re.findall(r'`([^`]+)`', row.split('|')[1])]
    assert paths, 'README has no layout table'
    for path in paths:
        assert (ROOT / path).exists(), f'README layout table names a missing path: {path}'
    listed = {p.rstrip('/') for p in paths}
    for entry in (ROOT / 'robot_memory').iterdir():
        if entry.name.startswith('_') or entry.name == 'py.typed' or entry.suffix == '.pyc':
            continue
        assert f'robot_memory/{entry.name}' in listed, f'README layout table lacks {entry.name}'


def test_design_doc_names_every_module() -> None:
    design = (ROOT / 'docs' / 'design.md').read_text()
    missing = [path.relative_to(ROOT).as_posix() for path in (ROOT / 'robot_memory').rglob('*.py')
               if path.name != '__init__.py' and f'{path.name}' not in design
               and f'`{path.stem}`' not in design]
    assert not missing, f'docs/design.md does not say what these hold: {missing}'


@pytest.mark.slow
def test_core_perception_language_and_protocol_type_check_strictly() -> None:
    """mypy --strict over the packages pyproject.toml names ([tool.mypy] files)."""
    done = subprocess.run([sys.executable, '-m', 'mypy'], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_the_code_is_ruff_clean() -> None:
    done = subprocess.run([sys.executable, '-m', 'ruff', 'check', 'robot_memory', 'tests',
                           'launch'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
