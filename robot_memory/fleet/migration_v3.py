"""Schema version 3 (issue #31): events partitioned by time, the fleet objects table.

Kept apart from `schema.py` for its length; `schema.MIGRATIONS` holds it as its third entry.

- `events` becomes `PARTITION BY RANGE (stamp_s)`, one partition a calendar month (UTC)
  made by `robot_memory_add_partitions` and a DEFAULT partition, so no stamp is ever refused
  for want of a partition. A partitioned table's unique key must hold the partition key: the
  key is (robot id, seq, stamp_s). A robot's log is append-only, so a batch sent again has
  the same stamps and still inserts nothing twice (`ON CONFLICT DO NOTHING`). Rows of a v2
  table that the v2 CHECK (NOT VALID there) would refuse move to `events_quarantined`.
- `fleet_objects`: each fleet object's current state (class, colour, position, room, last
  seen, by which robot), `fleet_members` (which robot's object is which fleet object),
  `fleet_evidence` (per object and robot: first and last sighting, how many: the per-object
  summary that outlives the raw sightings), `fleet_cursor` (per robot, the last event
  applied) and `fleet_layout`. `robot_memory_index(n)` applies up to `n` new events in one
  transaction with the cursors (idempotent, resumable; one indexer at a time by an advisory
  lock, others return -1 at once). It associates as `fleet.merge` does: same class, colours
  agreeing, present within 0.5 m, not already one of that robot's objects.
- `robots.pruned_seq`: the last seq of a robot's rows dropped by retention, so replicators
  and views do not take the dropped prefix for rows to ship or gaps.
"""

from __future__ import annotations

__all__ = ['INDEX_LOCK', 'MIGRATION_V3']

INDEX_LOCK = 3100031
"""The advisory lock key of the indexer (one at a time)."""

GATE_M = 0.5

MIGRATION_V3 = f"""
ALTER TABLE events RENAME TO events_v2;
ALTER INDEX events_pkey RENAME TO events_v2_pkey;
ALTER INDEX events_by_stamp RENAME TO events_v2_by_stamp;
CREATE TABLE events (
    robot_id text NOT NULL,
    seq bigint NOT NULL,
    stamp_s double precision NOT NULL,
    kind text NOT NULL,
    object_id text,
    body jsonb NOT NULL,
    PRIMARY KEY (robot_id, seq, stamp_s)
) PARTITION BY RANGE (stamp_s);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_by_stamp ON events (stamp_s);
CREATE TABLE events_quarantined (
    robot_id text NOT NULL,
    seq bigint NOT NULL,
    stamp_s double precision,
    kind text,
    object_id text,
    body jsonb,
    reason text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO events_quarantined (robot_id, seq, stamp_s, kind, object_id, body, reason)
    SELECT robot_id, seq, stamp_s, kind, object_id, body, 'refused by events_are_events'
    FROM events_v2
    WHERE NOT (seq > 0 AND robot_memory_event_ok(kind, stamp_s, object_id, body));
INSERT INTO events SELECT * FROM events_v2
    WHERE seq > 0 AND robot_memory_event_ok(kind, stamp_s, object_id, body);
DROP TABLE events_v2;
ALTER TABLE events ADD CONSTRAINT events_are_events
    CHECK (seq > 0 AND robot_memory_event_ok(kind, stamp_s, object_id, body));
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY fleet_reads_all ON events FOR SELECT USING (true);
CREATE POLICY robot_inserts_own ON events FOR INSERT
    WITH CHECK (robot_id = (SELECT r.robot_id FROM robots r WHERE r.role = current_user));
GRANT SELECT, INSERT ON events TO robot_memory_robot;
ALTER TABLE robots ADD COLUMN pruned_seq bigint NOT NULL DEFAULT 0;

CREATE FUNCTION robot_memory_add_partitions(p_from double precision, p_to double precision)
    RETURNS integer LANGUAGE plpgsql
AS $$
DECLARE
    month timestamptz := date_trunc('month', to_timestamp(p_from), 'UTC');
    lo double precision;
    hi double precision;
    name text;
    made integer := 0;
BEGIN
    WHILE extract(epoch FROM month) < p_to LOOP
        lo := extract(epoch FROM month);
        hi := extract(epoch FROM month + interval '1 month');
        name := 'events_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass(name) IS NULL THEN
            -- Rows already in the default partition move in (ATTACH refuses otherwise).
            EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS '
                           'INCLUDING CONSTRAINTS)', name);
            EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE stamp_s >= %s '
                           'AND stamp_s < %s RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           lo, hi, name);
            EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%s) '
                           'TO (%s)', name, lo, hi);
            made := made + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN made;
END $$;

CREATE TABLE fleet_objects (
    fleet_id text PRIMARY KEY,
    label text NOT NULL,
    color text NOT NULL DEFAULT '',
    present boolean NOT NULL DEFAULT true,
    x double precision,
    y double precision,
    z double precision,
    room_id text NOT NULL DEFAULT '',
    facts jsonb NOT NULL DEFAULT '{{}}',
    first_seen_s double precision NOT NULL,
    last_seen_s double precision NOT NULL,
    changed_s double precision NOT NULL,
    last_robot text NOT NULL,
    merged_into text
);
CREATE INDEX fleet_objects_by_class ON fleet_objects (label, color) WHERE merged_into IS NULL;
CREATE INDEX fleet_objects_by_room ON fleet_objects (room_id) WHERE merged_into IS NULL;
CREATE INDEX fleet_objects_by_time ON fleet_objects (last_seen_s);
CREATE INDEX fleet_objects_by_place ON fleet_objects (label, x, y) WHERE present;
CREATE TABLE fleet_members (
    robot_id text NOT NULL,
    object_id text NOT NULL,
    fleet_id text,
    label text NOT NULL,
    color text NOT NULL DEFAULT '',
    x double precision,
    y double precision,
    z double precision,
    room_id text NOT NULL DEFAULT '',
    PRIMARY KEY (robot_id, object_id)
);
CREATE INDEX fleet_members_by_object ON fleet_members (fleet_id, robot_id);
CREATE TABLE fleet_evidence (
    fleet_id text NOT NULL,
    robot_id text NOT NULL,
    first_s double precision NOT NULL,
    last_s double precision NOT NULL,
    sightings bigint NOT NULL,
    PRIMARY KEY (fleet_id, robot_id)
);
CREATE TABLE fleet_cursor (
    robot_id text PRIMARY KEY,
    seq bigint NOT NULL,
    indexed bigint NOT NULL DEFAULT 0,
    associated bigint NOT NULL DEFAULT 0,
    skipped bigint NOT NULL DEFAULT 0
);
CREATE TABLE fleet_layout (
    id integer PRIMARY KEY CHECK (id = 1),
    stamp_s double precision NOT NULL,
    body jsonb NOT NULL
);
GRANT SELECT ON fleet_objects, fleet_members, fleet_evidence, fleet_cursor, fleet_layout
    TO robot_memory_robot;

CREATE FUNCTION robot_memory_position(v jsonb) RETURNS double precision[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'array' AND jsonb_array_length(v) = 3
                     AND jsonb_typeof(v -> 0) = 'number' AND jsonb_typeof(v -> 1) = 'number'
                     AND jsonb_typeof(v -> 2) = 'number'
                     AND greatest(abs((v ->> 0)::numeric), abs((v ->> 1)::numeric),
                                  abs((v ->> 2)::numeric)) < 1e15
                THEN ARRAY[(v ->> 0)::float8, (v ->> 1)::float8, (v ->> 2)::float8] END;

CREATE FUNCTION robot_memory_apply(r events) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $$
DECLARE
    m fleet_members%ROWTYPE;
    o fleet_objects%ROWTYPE;
    fid text;
    keep text;
    drop_id text;
    key text;
    pos double precision[];
    verdict text := 'applied';
BEGIN
    IF r.kind = 'layout' THEN
        INSERT INTO fleet_layout VALUES (1, r.stamp_s, r.body -> 'graph')
        ON CONFLICT (id) DO UPDATE SET stamp_s = EXCLUDED.stamp_s, body = EXCLUDED.body
            WHERE fleet_layout.stamp_s <= EXCLUDED.stamp_s;
        RETURN verdict;
    ELSIF r.kind = 'created' THEN
        INSERT INTO fleet_members (robot_id, object_id, label, color)
        VALUES (r.robot_id, r.object_id, r.body ->> 'label', COALESCE(r.body ->> 'color', ''))
        ON CONFLICT DO NOTHING;
        RETURN verdict;
    ELSIF r.kind IN ('merged', 'repaired') THEN
        SELECT fleet_id INTO keep FROM fleet_members
            WHERE robot_id = r.robot_id AND object_id = r.body ->> 'keep_id';
        SELECT fleet_id INTO drop_id FROM fleet_members
            WHERE robot_id = r.robot_id AND object_id = r.body ->> 'drop_id';
        IF keep IS NULL OR drop_id IS NULL THEN
            UPDATE fleet_members SET fleet_id = keep
                WHERE robot_id = r.robot_id AND object_id = r.body ->> 'drop_id';
            RETURN 'skipped';
        END IF;
        IF keep = drop_id THEN
            RETURN verdict;
        END IF;
        SELECT * INTO o FROM fleet_objects WHERE fleet_id = drop_id;
        IF r.kind = 'repaired' AND o.present THEN  -- the kept object takes where it stands
            UPDATE fleet_objects SET x = o.x, y = o.y, z = o.z, room_id = o.room_id,
                present = true, changed_s = greatest(changed_s, r.stamp_s)
                WHERE fleet_id = keep;
        END IF;
        UPDATE fleet_members SET fleet_id = keep WHERE fleet_id = drop_id;
        INSERT INTO fleet_evidence AS f
            SELECT keep, robot_id, first_s, last_s, sightings FROM fleet_evidence
            WHERE fleet_id = drop_id
        ON CONFLICT (fleet_id, robot_id) DO UPDATE SET first_s = least(f.first_s,
            EXCLUDED.first_s), last_s = greatest(f.last_s, EXCLUDED.last_s),
            sightings = f.sightings + EXCLUDED.sightings;
        DELETE FROM fleet_evidence WHERE fleet_id = drop_id;
        UPDATE fleet_objects SET merged_into = keep, present = false WHERE fleet_id = drop_id;
        UPDATE fleet_objects SET merged_into = keep WHERE merged_into = drop_id;
        RETURN verdict;
    ELSIF r.kind NOT IN ('fact', 'refined', 'seen', 'lost') THEN
        RETURN 'skipped';  -- place, split: not replayed on the fleet (as fleet.merge)
    END IF;
    SELECT * INTO m FROM fleet_members WHERE robot_id = r.robot_id AND object_id = r.object_id;
    IF NOT FOUND THEN
        RETURN 'skipped';
    END IF;
    key := CASE r.kind WHEN 'refined' THEN 'position' WHEN 'fact' THEN r.body ->> 'key' END;
    IF key = 'position' THEN
        pos := robot_memory_position(r.body -> 'value');
        IF pos IS NULL THEN
            RAISE EXCEPTION 'a position that is not three numbers within ±1e15: %',
                left((r.body -> 'value')::text, 80);
        END IF;
        UPDATE fleet_members SET x = pos[1], y = pos[2], z = pos[3]
            WHERE robot_id = m.robot_id AND object_id = m.object_id;
    ELSIF key = 'room' THEN
        UPDATE fleet_members SET room_id = COALESCE(r.body ->> 'value', '')
            WHERE robot_id = m.robot_id AND object_id = m.object_id;
    ELSIF r.kind = 'lost' THEN
        UPDATE fleet_members SET x = NULL, y = NULL, z = NULL, room_id = ''
            WHERE robot_id = m.robot_id AND object_id = m.object_id;
    END IF;
    fid := m.fleet_id;
    IF fid IS NULL THEN
        IF pos IS NULL THEN
            RETURN 'skipped';  -- facts before the first position come again with it
        END IF;
        SELECT c.fleet_id INTO fid FROM fleet_objects c
            WHERE c.label = m.label AND c.merged_into IS NULL AND c.present
              AND c.x BETWEEN pos[1] - {GATE_M} AND pos[1] + {GATE_M}
              AND c.y BETWEEN pos[2] - {GATE_M} AND pos[2] + {GATE_M}
              AND (m.color = '' OR c.color = '' OR c.color = m.color)
              AND (c.x - pos[1]) ^ 2 + (c.y - pos[2]) ^ 2 <= {GATE_M ** 2}
              AND NOT EXISTS (SELECT 1 FROM fleet_members t
                              WHERE t.fleet_id = c.fleet_id AND t.robot_id = r.robot_id)
            ORDER BY (c.x - pos[1]) ^ 2 + (c.y - pos[2]) ^ 2, c.fleet_id LIMIT 1;
        IF fid IS NULL THEN
            fid := r.robot_id || '/' || r.object_id;
            INSERT INTO fleet_objects (fleet_id, label, color, x, y, z, first_seen_s,
                                       last_seen_s, changed_s, last_robot)
            VALUES (fid, m.label, m.color, pos[1], pos[2], pos[3], r.stamp_s, r.stamp_s,
                    r.stamp_s, r.robot_id)
            ON CONFLICT (fleet_id) DO NOTHING;
        ELSE
            verdict := 'associated';
        END IF;
        UPDATE fleet_members SET fleet_id = fid
            WHERE robot_id = m.robot_id AND object_id = m.object_id;
    END IF;
    SELECT * INTO o FROM fleet_objects WHERE fleet_id = fid;
    -- The latest observation wins: a change older than what the fleet object shows is late
    -- news (a robot back from an outage); its sighting still counts as evidence.
    IF r.stamp_s >= o.changed_s THEN
        IF key = 'position' THEN
            UPDATE fleet_objects SET x = pos[1], y = pos[2], z = pos[3], present = true,
                changed_s = r.stamp_s WHERE fleet_id = fid;
        ELSIF key = 'room' THEN
            UPDATE fleet_objects SET room_id = COALESCE(r.body ->> 'value', ''),
                changed_s = r.stamp_s WHERE fleet_id = fid;
        ELSIF key IS NOT NULL THEN
            UPDATE fleet_objects SET facts = facts || jsonb_build_object(key, r.body -> 'value'),
                changed_s = r.stamp_s WHERE fleet_id = fid;
        ELSIF r.kind = 'lost' THEN
            UPDATE fleet_objects SET present = false, changed_s = r.stamp_s
                WHERE fleet_id = fid;
        ELSIF r.kind = 'seen' AND NOT o.present AND m.x IS NOT NULL THEN
            -- Another robot saw it go; this one sees it where it knows it: it is back.
            UPDATE fleet_objects SET x = m.x, y = m.y, z = m.z, room_id = m.room_id,
                present = true, changed_s = r.stamp_s WHERE fleet_id = fid;
        END IF;
    ELSE
        verdict := 'late';
    END IF;
    UPDATE fleet_objects SET last_seen_s = greatest(last_seen_s, r.stamp_s),
        last_robot = CASE WHEN r.stamp_s >= last_seen_s THEN r.robot_id ELSE last_robot END
        WHERE fleet_id = fid;
    INSERT INTO fleet_evidence AS f VALUES (fid, r.robot_id, r.stamp_s, r.stamp_s, 1)
    ON CONFLICT (fleet_id, robot_id) DO UPDATE SET first_s = least(f.first_s, r.stamp_s),
        last_s = greatest(f.last_s, r.stamp_s), sightings = f.sightings + 1;
    RETURN verdict;
END $$;

CREATE FUNCTION robot_memory_index(p_max integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    r events%ROWTYPE;
    verdict text;
    done integer := 0;
    per_robot integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock({INDEX_LOCK}) THEN
        RETURN -1;  -- another indexer is at work; it or the next call takes these rows
    END IF;
    -- Per robot its next events in seq order (a share of p_max each: reading p_max rows of
    -- every robot made a call cost robots x p_max); robots interleaved by stamp — the
    -- running maximum keeps each robot's own order when its stamps are not monotone — up to
    -- the earliest stamp where a robot's share was cut, so no robot's later events pass
    -- another's earlier ones that were left for the next call.
    per_robot := greatest(50, p_max / greatest(1, (SELECT count(*) FROM robots)));
    FOR r IN
        WITH w AS (
            SELECT e, max((e).stamp_s) OVER (PARTITION BY (e).robot_id ORDER BY (e).seq) AS t,
                   count(*) OVER (PARTITION BY (e).robot_id) AS n
            FROM robots rb
            LEFT JOIN fleet_cursor c ON c.robot_id = rb.robot_id
            CROSS JOIN LATERAL (
                SELECT ev FROM events ev
                WHERE ev.robot_id = rb.robot_id AND ev.seq > greatest(c.seq, rb.pruned_seq, 0)
                ORDER BY ev.seq LIMIT per_robot) x(e)
        ), cut AS (
            SELECT min(t) AS t FROM (SELECT max(t) AS t FROM w WHERE n = per_robot
                                     GROUP BY (e).robot_id) m
        )
        SELECT (e).* FROM w WHERE t <= COALESCE((SELECT t FROM cut), 'infinity')
        ORDER BY t, (e).robot_id, (e).seq LIMIT p_max
    LOOP
        BEGIN
            verdict := robot_memory_apply(r);
        EXCEPTION WHEN OTHERS THEN  -- one robot's bad row is set aside, never fatal
            INSERT INTO events_quarantined (robot_id, seq, stamp_s, kind, object_id, body,
                                            reason)
            VALUES (r.robot_id, r.seq, r.stamp_s, r.kind, r.object_id, r.body,
                    'indexer: ' || left(SQLERRM, 300));
            verdict := 'skipped';
        END;
        INSERT INTO fleet_cursor AS c (robot_id, seq, indexed, associated, skipped)
        VALUES (r.robot_id, r.seq, 1, (verdict = 'associated')::int,
                (verdict = 'skipped')::int)
        ON CONFLICT (robot_id) DO UPDATE SET seq = EXCLUDED.seq, indexed = c.indexed + 1,
            associated = c.associated + EXCLUDED.associated,
            skipped = c.skipped + EXCLUDED.skipped;
        done := done + 1;
    END LOOP;
    RETURN done;
END $$;
REVOKE ALL ON FUNCTION robot_memory_index(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION robot_memory_apply(events) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION robot_memory_index(integer) TO robot_memory_robot;
"""
