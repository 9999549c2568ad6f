"""The fleet indexer's association look-up: btree (label, x, y) against PostGIS GiST.

Prints JSON. A throw-away PostgreSQL server; `fleet_objects` filled with `--objects` rows
(50 classes, positions uniform in a 100 m x 100 m site, 90 % present), then `--lookups` times
the indexer's query — the nearest present object of a class within 0.5 m — once on the
schema's btree index and once on a GiST index over a PostGIS point (ST_DWithin and `<->`).
Skipped with a message when PostGIS is not installed (Debian: postgresql-15-postgis-3).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import psycopg

from robot_memory.fleet.local_server import LocalPostgres
from robot_memory.fleet.schema import connect, init_server

BTREE = """
SELECT fleet_id FROM fleet_objects c
WHERE c.label = %(label)s AND c.merged_into IS NULL AND c.present
  AND c.x BETWEEN %(x)s - 0.5 AND %(x)s + 0.5 AND c.y BETWEEN %(y)s - 0.5 AND %(y)s + 0.5
  AND (c.x - %(x)s) ^ 2 + (c.y - %(y)s) ^ 2 <= 0.25
ORDER BY (c.x - %(x)s) ^ 2 + (c.y - %(y)s) ^ 2 LIMIT 1
"""
GIST = """
SELECT fleet_id FROM fleet_objects c
WHERE c.label = %(label)s AND c.merged_into IS NULL AND c.present
  AND ST_DWithin(c.geom, ST_MakePoint(%(x)s, %(y)s), 0.5)
ORDER BY c.geom <-> ST_MakePoint(%(x)s, %(y)s) LIMIT 1
"""


def main() -> None:
    """Run the comparison; JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--objects', type=int, default=100_000)
    parser.add_argument('--lookups', type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with LocalPostgres() as server:
        init_server(server.dsn)
        with connect(server.dsn, autocommit=True) as conn:
            try:
                conn.execute('CREATE EXTENSION postgis')
            except psycopg.Error as exc:  # the extension is not installed
                sys.stdout.write(json.dumps({'skipped': f'no PostGIS: {exc}'}) + '\n')
                return
            n = args.objects
            conn.execute(
                'INSERT INTO fleet_objects (fleet_id, label, x, y, z, present, first_seen_s, '
                "last_seen_s, changed_s, last_robot) SELECT 'r/o' || i, 'c' || (i %% 50), "
                'x, y, 0, random() < 0.9, 0, 0, 0, %s FROM unnest(%s::float8[], '
                '%s::float8[]) WITH ORDINALITY AS t(x, y, i)',
                ('r', list(rng.uniform(0, 100, n)), list(rng.uniform(0, 100, n))))
            conn.execute('ALTER TABLE fleet_objects ADD COLUMN geom geometry(Point) '
                         'GENERATED ALWAYS AS (ST_MakePoint(x, y)) STORED')
            conn.execute('ANALYZE fleet_objects')
            probes = [{'label': f'c{int(i)}', 'x': float(x), 'y': float(y)} for i, x, y in
                      zip(rng.integers(0, 50, args.lookups), rng.uniform(0, 100, args.lookups),
                          rng.uniform(0, 100, args.lookups), strict=True)]
            result: dict[str, object] = {'objects': n, 'lookups': args.lookups}
            answers = {}
            for name, sql, index in (
                    ('btree', BTREE, None),
                    ('gist', GIST, 'CREATE INDEX fleet_objects_by_geom ON fleet_objects '
                                   'USING gist (label, geom) WHERE present')):
                if index:
                    conn.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
                    conn.execute('DROP INDEX fleet_objects_by_place')
                    conn.execute(index)
                    conn.execute('ANALYZE fleet_objects')
                times, found = [], []
                for probe in probes:
                    t0 = time.perf_counter()
                    row = conn.execute(sql, probe).fetchone()
                    times.append((time.perf_counter() - t0) * 1e3)
                    found.append(row[0] if row else None)
                answers[name] = found
                result[f'{name}_ms_p50'] = round(float(np.percentile(times, 50)), 3)
                result[f'{name}_ms_p95'] = round(float(np.percentile(times, 95)), 3)
                result[f'{name}_index_mb'] = round(conn.execute(
                    'SELECT pg_relation_size(%s)', (
                        'fleet_objects_by_geom' if index else 'fleet_objects_by_place',)
                ).fetchone()[0] / 1e6, 2)
            result['same_answers'] = answers['btree'] == answers['gist']
    sys.stdout.write(json.dumps(result) + '\n')


if __name__ == '__main__':
    main()
