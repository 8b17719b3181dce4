"""A database trigger that keeps an order's history as it was written: no UPDATE of an entry,
except the link to a deleted registration becoming empty (ON DELETE SET NULL). The model
refuses changes too; the trigger also holds for a queryset .update() or a database console.
An entry goes only with its order (orders are anonymised, never deleted). On SQLite a
migration that rebuilds this table drops the trigger: drop and create it around such a
migration, as invoicing's migrations do for theirs."""

from werkplaats.triggers import execute

TABLE = "history_orderlogentry"
MESSAGE = "De geschiedenis van een bestelling verandert niet achteraf."

POSTGRESQL = f"""
CREATE FUNCTION history_orderlogentry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'registration_id') IS DISTINCT FROM (to_jsonb(OLD) - 'registration_id')
       OR (NEW.registration_id IS NOT NULL
           AND NEW.registration_id IS DISTINCT FROM OLD.registration_id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER history_orderlogentry_guard BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION history_orderlogentry_guard();
"""

SQLITE = [
    f"""CREATE TRIGGER history_orderlogentry_guard BEFORE UPDATE ON {TABLE}
    WHEN NEW.id IS NOT OLD.id OR NEW.order_id IS NOT OLD.order_id OR NEW.at IS NOT OLD.at
        OR NEW.kind IS NOT OLD.kind OR NEW.text IS NOT OLD.text OR NEW.by IS NOT OLD.by
        OR (NEW.registration_id IS NOT NULL AND NEW.registration_id IS NOT OLD.registration_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
]

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS history_orderlogentry_guard ON {TABLE};
DROP FUNCTION IF EXISTS history_orderlogentry_guard();
"""
SQLITE_DROP = ["DROP TRIGGER IF EXISTS history_orderlogentry_guard"]


def create(apps, schema_editor):
    execute(schema_editor, POSTGRESQL, SQLITE)


def drop(apps, schema_editor):
    execute(schema_editor, POSTGRESQL_DROP, SQLITE_DROP)
