"""PostgreSQL only: the whole log append as one server-side function (one round trip per append).

Appends are serialized by the sequencer row's lock, so their throughput is bounded by how long
each one holds it: with the function, that is a single statement instead of a SELECT … FOR UPDATE
and the writes as separate round trips. It does exactly what ``services.log_append`` does on
SQLite (``tree.frontier_push``): RFC 9162 leaf hash ``SHA-256(0x00 || leaf)``, then for every
trailing 1 bit of the new leaf's index, fold the right-most frontier hash into a parent
``SHA-256(0x01 || left || right)``, storing each completed subtree and the new frontier.
The frontier is stored highest level first, so the subtrees an append completes are always the
last hashes of the blob. Other databases skip this migration and keep the Python path.
"""

from django.db import migrations

FUNCTION = "restu_log_append"

CREATE = r"""
CREATE OR REPLACE FUNCTION restu_log_append(
    p_type text, p_ref text, p_digest text, p_at timestamptz, p_leaf bytea,
    OUT entry_id bigint, OUT leaf_index bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
    v_size bigint;
    v_frontier bytea;
    v_node bytea;
    v_position bigint;
    v_level integer := 0;
    v_cut integer;
BEGIN
    -- The sequencer row, locked until the caller's transaction ends: one appender at a time.
    SELECT size, frontier INTO v_size, v_frontier FROM {state} WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- A flush or an empty restore deleted it: recreate it (a racing creator wins).
        INSERT INTO {state} (id, size, frontier, updated) VALUES (1, 0, ''::bytea, now())
            ON CONFLICT (id) DO NOTHING;
        SELECT size, frontier INTO v_size, v_frontier FROM {state} WHERE id = 1 FOR UPDATE;
    END IF;
    IF length(v_frontier) <> 32 * bit_count(v_size::bit(64)) THEN
        RAISE EXCEPTION 'the stored frontier does not match the tree size %', v_size;
    END IF;
    v_node := sha256('\x00'::bytea || p_leaf);
    INSERT INTO {entry} ("index", type, ref, digest, at, leaf, leaf_hash)
        VALUES (v_size, p_type, p_ref, p_digest, p_at, p_leaf, v_node)
        RETURNING id INTO entry_id;
    INSERT INTO {node} (level, "index", hash) VALUES (0, v_size, v_node);
    v_position := v_size;
    v_cut := length(v_frontier);
    WHILE v_position & 1 = 1 LOOP
        v_cut := v_cut - 32;
        v_node := sha256('\x01'::bytea || substring(v_frontier FROM v_cut + 1 FOR 32) || v_node);
        v_level := v_level + 1;
        v_position := v_position >> 1;
        INSERT INTO {node} (level, "index", hash) VALUES (v_level, v_position, v_node);
    END LOOP;
    UPDATE {state} SET size = v_size + 1, frontier = substring(v_frontier FROM 1 FOR v_cut) || v_node,
        updated = now() WHERE id = 1;
    leaf_index := v_size;
END
$fn$;
"""

DROP = "DROP FUNCTION IF EXISTS restu_log_append(text, text, text, timestamptz, bytea)"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    tables = {
        name: quote(apps.get_model("transparency", model)._meta.db_table)
        for name, model in (("state", "LogState"), ("entry", "LogEntry"), ("node", "LogNode"))
    }
    sql = CREATE
    for name, table in tables.items():
        sql = sql.replace("{" + name + "}", table)
    schema_editor.execute(sql, None)  # None: no parameters, so the '%' in RAISE stays as it is


def drop_function(apps, schema_editor):  # noqa: ARG001 — migration signature
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("transparency", "0002_sequencer_row")]

    operations = [migrations.RunPython(create_function, drop_function)]
