"""Database triggers that hold the capacity whatever writes the rows.

The sign-up and the transitions count places under the edition lock (models.py); these
triggers are the backstop for what goes around the models: a queryset .update(), raw SQL, a
database console. A registration is not confirmed beyond the edition's maximum, and the
maximum is not lowered below the confirmed count.

On PostgreSQL, production's database (see SQLITE below for why not on SQLite). A migration that changes registrations_registration or
programme_edition needs nothing special there: ALTER TABLE keeps triggers.
"""

from werkplaats.triggers import execute

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

# None on SQLite, the local default: a trigger there that names another app's table stops
# every later rebuild of that table (SQLite checks all triggers when a rebuilt table is renamed
# into place), and programme cannot know to take registrations' triggers down first. SQLite
# runs one writing transaction at a time, so the lock in models.py holds on its own there.
SQLITE = []

# Triggers an earlier version of this module made on SQLite: dropped wherever they exist.
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registrations_capacity_insert",
    "DROP TRIGGER IF EXISTS registrations_capacity_update",
    "DROP TRIGGER IF EXISTS registrations_edition_capacity",
]


def create(apps, schema_editor):
    execute(schema_editor, POSTGRESQL, SQLITE)


def drop(apps, schema_editor):
    execute(schema_editor, POSTGRESQL_DROP, SQLITE_DROP)
