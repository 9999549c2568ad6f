"""Pack a `cmake --install` prefix of a ROS 2 interface package into a wheel.

The layout follows the ros-jazzy-* wheels on PyPI: `<prefix>/lib/pythonX.Y/site-packages/*` goes
to the wheel's root, everything else to `<dist>.data/data/` (pip puts it under the venv: the
typesupport libraries in `<venv>/lib`, where rclpy's bootstrapper looks, and the interface
files and ament index in `<venv>/share`). Used by scripts/build_interfaces.sh.
"""

import argparse
import base64
import hashlib
import stat
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=')
    return 'sha256=' + digest.decode()


def main() -> None:
    """Write the wheel and print its path."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--name', required=True, help='distribution, e.g. ros-robot-memory-interfaces')
    ap.add_argument('--version', required=True)
    ap.add_argument('--tag', required=True, help='e.g. cp311-cp311-linux_x86_64')
    ap.add_argument('--stage', required=True, type=Path, help='the cmake install prefix')
    ap.add_argument('--pysite', required=True, help='site-packages relative to the prefix')
    ap.add_argument('--requires', action='append', default=[])
    ap.add_argument('--summary', default='')
    ap.add_argument('--out', required=True, type=Path)
    a = ap.parse_args()

    dist = a.name.replace('-', '_').lower()
    info = f'{dist}-{a.version}.dist-info'
    data = f'{dist}-{a.version}.data/data'
    stage = a.stage.resolve()
    pysite = stage / a.pysite
    entries: list[tuple[str, bytes, int]] = []
    files = (p for p in stage.rglob('*') if p.is_file() and '__pycache__' not in p.parts)
    for path in sorted(files):
        if pysite in path.parents:
            arc = path.relative_to(pysite).as_posix()
        else:
            arc = f'{data}/{path.relative_to(stage).as_posix()}'
        entries.append((arc, path.read_bytes(), path.stat().st_mode))
    meta = ['Metadata-Version: 2.1', f'Name: {a.name}', f'Version: {a.version}',
            f'Summary: {a.summary}'] + [f'Requires-Dist: {r}' for r in a.requires]
    entries.append((f'{info}/METADATA', ('\n'.join(meta) + '\n').encode(), 0o644))
    entries.append((f'{info}/WHEEL', ('Wheel-Version: 1.0\nGenerator: scripts/pack_wheel.py\n'
                                      f'Root-Is-Purelib: false\nTag: {a.tag}\n').encode(), 0o644))
    record = [f'{arc},{_digest(c)},{len(c)}' for arc, c, _ in entries] + [f'{info}/RECORD,,']
    entries.append((f'{info}/RECORD', ('\n'.join(record) + '\n').encode(), 0o644))
    a.out.mkdir(parents=True, exist_ok=True)
    out = a.out / f'{dist}-{a.version}-{a.tag}.whl'
    with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
        for arc, content, mode in entries:
            zi = zipfile.ZipInfo(arc, date_time=(2024, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = (stat.S_IFREG | (0o755 if mode & stat.S_IXUSR else 0o644)) << 16
            zf.writestr(zi, content)
    print(out)


if __name__ == '__main__':
    main()
