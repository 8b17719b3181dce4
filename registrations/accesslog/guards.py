"""A database trigger that keeps the access log as it was written.

No UPDATE, except a link becoming empty when the user or edition it names is deleted
(ON DELETE SET NULL). No DELETE of an entry younger than KEPT_MONTHS: the retention job
removes older ones (settings.ACCESS_LOG_RETENTION_MONTHS, never less than this), and
nobody removes a younger one, not through the ORM, a raw query or a database console of
the application's user. The period is fixed here, in the trigger, not read from a setting
the application could change. On PostgreSQL a TRUNCATE is refused while a younger entry
exists (a test database is emptied with the trigger dropped first, see tests/conftest.py).

The model refuses changes as well; the trigger also holds for a queryset .update().
On SQLite a migration that rebuilds this table drops the trigger: drop and create it around
such a migration, as invoicing's migrations do for theirs.
"""

from werkplaats.triggers import execute

TABLE = "accesslog_accesslogentry"
KEPT_MONTHS = 24
CHANGE_MESSAGE = "Het toegangslog verandert niet achteraf."
DELETE_MESSAGE = (
    f"Een regel van het toegangslog wordt pas na {KEPT_MONTHS} maanden verwijderd "
    "(door de bewaartermijn)."
)
COLUMNS = ["id", "at", "username", "kind", "what", "reference", "count", "address"]

POSTGRESQL = f"""
CREATE FUNCTION accesslog_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- Emptying a table that holds nothing young (a test database being reset) is fine.
        IF EXISTS (SELECT 1 FROM {TABLE} WHERE at >= now() - interval '{KEPT_MONTHS} months') THEN
            RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.at >= now() - interval '{KEPT_MONTHS} months' THEN
            RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (to_jsonb(NEW) - 'user_id' - 'edition_id') IS DISTINCT FROM
           (to_jsonb(OLD) - 'user_id' - 'edition_id')
       OR (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
       OR (NEW.edition_id IS NOT NULL AND NEW.edition_id IS DISTINCT FROM OLD.edition_id) THEN
        RAISE EXCEPTION '{CHANGE_MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER accesslog_guard BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION accesslog_guard();
CREATE TRIGGER accesslog_guard_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION accesslog_guard();
"""

_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COLUMNS)
SQLITE = [
    f"""CREATE TRIGGER accesslog_guard_update BEFORE UPDATE ON {TABLE}
    WHEN {_CHANGED}
        OR (NEW.user_id IS NOT NULL AND NEW.user_id IS NOT OLD.user_id)
        OR (NEW.edition_id IS NOT NULL AND NEW.edition_id IS NOT OLD.edition_id)
    BEGIN SELECT RAISE(ABORT, '{CHANGE_MESSAGE}'); END""",
    # Django stores SQLite datetimes as UTC text ("2026-12-06 21:12:52.123456"), which
    # compares as text with SQLite's own datetime('now') in UTC.
    f"""CREATE TRIGGER accesslog_guard_delete BEFORE DELETE ON {TABLE}
    WHEN OLD.at >= datetime('now', '-{KEPT_MONTHS} months')
    BEGIN SELECT RAISE(ABORT, '{DELETE_MESSAGE}'); END""",
]

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS accesslog_guard ON {TABLE};
DROP TRIGGER IF EXISTS accesslog_guard_truncate ON {TABLE};
DROP FUNCTION IF EXISTS accesslog_guard();
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS accesslog_guard_update",
    "DROP TRIGGER IF EXISTS accesslog_guard_delete",
]


def create(apps, schema_editor):
    execute(schema_editor, POSTGRESQL, SQLITE)


def drop(apps, schema_editor):
    execute(schema_editor, POSTGRESQL_DROP, SQLITE_DROP)
