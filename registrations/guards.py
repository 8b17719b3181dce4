"""Database triggers that hold the capacity whatever writes the rows.

The sign-up and the transitions count places under the edition lock (models.py); these
triggers are the backstop for what goes around the models: a queryset .update(), raw SQL, a
database console. A registration is not confirmed beyond the edition's maximum, and the
maximum is not lowered below the confirmed count.

On SQLite a migration that rebuilds registrations_registration or programme_edition drops
their triggers: such a migration must call drop() and create() around its operations
(tests/test_back_office_rules.py fails if it does not).
"""

REGISTRATION = "registrations_registration"
EDITION = "programme_edition"
FULL = "De editie is vol: deze inschrijving kan niet worden bevestigd."
BELOW = "Er zijn meer bevestigde deelnemers dan dit maximum; annuleer eerst wie niet komt."

POSTGRESQL = f"""
CREATE FUNCTION registrations_capacity_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    maximum integer;
BEGIN
    IF NEW.status <> 'confirmed' OR (TG_OP = 'UPDATE' AND OLD.status = 'confirmed'
                                     AND OLD.edition_id = NEW.edition_id) THEN
        RETURN NEW;
    END IF;
    SELECT capacity INTO maximum FROM {EDITION} WHERE id = NEW.edition_id;
    IF maximum IS NOT NULL AND (
        SELECT count(*) FROM {REGISTRATION}
        WHERE edition_id = NEW.edition_id AND status = 'confirmed' AND id <> NEW.id
    ) >= maximum THEN
        RAISE EXCEPTION '{FULL}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER registrations_capacity_guard BEFORE INSERT OR UPDATE ON {REGISTRATION}
    FOR EACH ROW EXECUTE FUNCTION registrations_capacity_guard();

CREATE FUNCTION registrations_edition_capacity_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.capacity IS NOT NULL AND NEW.capacity IS DISTINCT FROM OLD.capacity AND (
        SELECT count(*) FROM {REGISTRATION} WHERE edition_id = NEW.id AND status = 'confirmed'
    ) > NEW.capacity THEN
        RAISE EXCEPTION '{BELOW}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER registrations_edition_capacity_guard BEFORE UPDATE ON {EDITION}
    FOR EACH ROW EXECUTE FUNCTION registrations_edition_capacity_guard();
"""

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS registrations_capacity_guard ON {REGISTRATION};
DROP FUNCTION IF EXISTS registrations_capacity_guard();
DROP TRIGGER IF EXISTS registrations_edition_capacity_guard ON {EDITION};
DROP FUNCTION IF EXISTS registrations_edition_capacity_guard();
"""

_MAXIMUM = f"(SELECT capacity FROM {EDITION} WHERE id = NEW.edition_id)"
_TAKEN = (
    f"(SELECT count(*) FROM {REGISTRATION} WHERE edition_id = NEW.edition_id "
    "AND status = 'confirmed' AND id IS NOT NEW.id)"
)

SQLITE = [
    f"""CREATE TRIGGER registrations_capacity_insert BEFORE INSERT ON {REGISTRATION}
    WHEN NEW.status = 'confirmed' AND {_MAXIMUM} IS NOT NULL AND {_TAKEN} >= {_MAXIMUM}
    BEGIN SELECT RAISE(ABORT, '{FULL}'); END""",
    f"""CREATE TRIGGER registrations_capacity_update BEFORE UPDATE ON {REGISTRATION}
    WHEN NEW.status = 'confirmed'
        AND NOT (OLD.status = 'confirmed' AND OLD.edition_id = NEW.edition_id)
        AND {_MAXIMUM} IS NOT NULL AND {_TAKEN} >= {_MAXIMUM}
    BEGIN SELECT RAISE(ABORT, '{FULL}'); END""",
    f"""CREATE TRIGGER registrations_edition_capacity BEFORE UPDATE ON {EDITION}
    WHEN NEW.capacity IS NOT NULL AND NEW.capacity IS NOT OLD.capacity AND (
        SELECT count(*) FROM {REGISTRATION} WHERE edition_id = NEW.id AND status = 'confirmed'
    ) > NEW.capacity
    BEGIN SELECT RAISE(ABORT, '{BELOW}'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registrations_capacity_insert",
    "DROP TRIGGER IF EXISTS registrations_capacity_update",
    "DROP TRIGGER IF EXISTS registrations_edition_capacity",
]


def execute(schema_editor, postgresql, sqlite):
    """Run the PostgreSQL script or the SQLite statements, whichever database this is."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: a % in a RAISE message must reach PostgreSQL as written.
        schema_editor.execute(postgresql, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No database guards for {vendor}: add them before using it.")


def create(apps, schema_editor):
    execute(schema_editor, POSTGRESQL, SQLITE)


def drop(apps, schema_editor):
    execute(schema_editor, POSTGRESQL_DROP, SQLITE_DROP)
