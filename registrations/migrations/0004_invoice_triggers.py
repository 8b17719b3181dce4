"""Database triggers that keep issued invoices as they were issued.

The model refuses changes too, but a queryset .update(), a raw query or a database console
goes around the model; these triggers do not. Only the PDF (set once, while empty), the
payment date and the e-mail date may change; nothing may be deleted.

On SQLite a later migration that alters registrations_invoice rebuilds the table and
drops these triggers: such a migration must create them again (tests/test_invoice_immutability.py
fails if it does not).
"""

from django.db import migrations

MUTABLE = ["pdf", "pdf_sha256", "paid_on", "emailed_at"]

POSTGRESQL = """
CREATE FUNCTION registrations_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Factuur % is uitgereikt en mag niet worden verwijderd.', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    -- Every column but the mutable ones, so a column added later is frozen as well.
    IF (to_jsonb(NEW) - ARRAY[{mutable}]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{mutable}])
       OR (OLD.pdf <> '' AND NEW.pdf IS DISTINCT FROM OLD.pdf)
       OR (OLD.pdf_sha256 <> '' AND NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256) THEN
        RAISE EXCEPTION 'Factuur % is uitgereikt en kan niet worden gewijzigd; maak een creditfactuur.', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER registrations_invoice_guard BEFORE UPDATE OR DELETE ON registrations_invoice
    FOR EACH ROW EXECUTE FUNCTION registrations_invoice_guard();

CREATE FUNCTION registrations_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Een regel van een uitgereikte factuur kan niet worden gewijzigd of verwijderd.'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER registrations_invoiceline_guard BEFORE UPDATE OR DELETE ON registrations_invoiceline
    FOR EACH ROW EXECUTE FUNCTION registrations_invoiceline_guard();
""".replace("{mutable}", ", ".join(f"'{name}'" for name in MUTABLE))

POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS registrations_invoice_guard ON registrations_invoice;
DROP FUNCTION IF EXISTS registrations_invoice_guard();
DROP TRIGGER IF EXISTS registrations_invoiceline_guard ON registrations_invoiceline;
DROP FUNCTION IF EXISTS registrations_invoiceline_guard();
"""


def sqlite_statements(frozen_columns):
    changed = " OR ".join(f'NEW."{column}" IS NOT OLD."{column}"' for column in frozen_columns)
    return [
        """CREATE TRIGGER registrations_invoice_no_delete BEFORE DELETE ON registrations_invoice
        BEGIN SELECT RAISE(ABORT, 'Een uitgereikte factuur mag niet worden verwijderd.'); END""",
        f"""CREATE TRIGGER registrations_invoice_frozen BEFORE UPDATE ON registrations_invoice
        WHEN {changed}
            OR (OLD.pdf <> '' AND NEW.pdf IS NOT OLD.pdf)
            OR (OLD.pdf_sha256 <> '' AND NEW.pdf_sha256 IS NOT OLD.pdf_sha256)
        BEGIN SELECT RAISE(ABORT,
            'Een uitgereikte factuur kan niet worden gewijzigd; maak een creditfactuur.'); END""",
        """CREATE TRIGGER registrations_invoiceline_frozen BEFORE UPDATE ON registrations_invoiceline
        BEGIN SELECT RAISE(ABORT, 'Een regel van een uitgereikte factuur kan niet worden gewijzigd.'); END""",
        """CREATE TRIGGER registrations_invoiceline_no_delete BEFORE DELETE ON registrations_invoiceline
        BEGIN SELECT RAISE(ABORT, 'Een regel van een uitgereikte factuur mag niet worden verwijderd.'); END""",
    ]


SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS registrations_invoice_no_delete",
    "DROP TRIGGER IF EXISTS registrations_invoice_frozen",
    "DROP TRIGGER IF EXISTS registrations_invoiceline_frozen",
    "DROP TRIGGER IF EXISTS registrations_invoiceline_no_delete",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the % in RAISE messages must reach PostgreSQL as written.
        schema_editor.execute(POSTGRESQL, params=None)
    elif vendor == "sqlite":
        Invoice = apps.get_model("registrations", "Invoice")
        frozen = [
            field.column
            for field in Invoice._meta.concrete_fields
            if field.name not in MUTABLE and not field.primary_key
        ]
        for statement in sqlite_statements(frozen):
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No invoice triggers for {vendor}: add them before using it.")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    else:
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("registrations", "0003_invoices")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
