"""Database triggers that keep issued invoices, and what they say, as they were issued.

The models refuse such changes too, but a queryset .update(), a raw query or a database
console goes around the models; these triggers do not. Migrations call create/drop here.

On SQLite a migration that rebuilds one of these tables (most AddField and AlterField do)
drops its triggers: such a migration must drop and create them again around its operations
(tests/test_invoice_immutability.py fails if it does not).
"""

from werkplaats.triggers import execute

from .models import Invoice

INVOICE = "registrations_invoice"
LINE = "registrations_invoiceline"
REGISTRATION = "registrations_registration"
ORDER = "registrations_order"

# Issued invoices: the columns that may change after issue (their one list is the model's,
# which save() checks too); a set-once column only while empty. A migration whose models lack
# one of them is unaffected: the triggers freeze every column not listed.
MUTABLE = list(Invoice.MUTABLE_FIELDS)
SET_ONCE = ["pdf_sha256", "ubl_sha256"]

# An uncredited invoice of the registration exists (in SQL, for OLD.id).
INVOICED = f"""EXISTS (
    SELECT 1 FROM {INVOICE} i WHERE i.registration_id = OLD.id AND i.kind = 'invoice'
    AND NOT EXISTS (SELECT 1 FROM {INVOICE} c WHERE c.credited_invoice_id = i.id))"""
# Since orders: an uncredited invoice has a line for the registration (OLD.id) ...
_UNCREDITED_LINE = f"""FROM {LINE} l JOIN {INVOICE} i ON i.id = l.invoice_id
    WHERE i.kind = 'invoice'
    AND NOT EXISTS (SELECT 1 FROM {INVOICE} c WHERE c.credited_invoice_id = i.id)"""
INVOICED_POSITION = f"EXISTS (SELECT 1 {_UNCREDITED_LINE} AND l.registration_id = OLD.id)"
# ... or for one of the order's (OLD.id) registrations.
INVOICED_ORDER = f"""EXISTS (SELECT 1 {_UNCREDITED_LINE} AND l.registration_id IN (
    SELECT r.id FROM {REGISTRATION} r WHERE r.order_id = OLD.id))"""
ORDER_MESSAGE = (
    "Deze bestelling is gefactureerd: de factuurgegevens veranderen alleen met Corrigeren en "
    "opnieuw factureren (creditfactuur en nieuwe factuur)."
)
REGISTRATION_MESSAGE = (
    "Deze inschrijving is gefactureerd: wat op de factuur staat verandert alleen met "
    "Corrigeren en opnieuw factureren (creditfactuur en nieuwe factuur)."
)


def _postgresql(frozen_registration_columns, set_once_columns, invoiced=INVOICED):
    quoted = ", ".join(f"'{name}'" for name in MUTABLE)
    set_once = " OR ".join(
        f"(OLD.{name} <> '' AND NEW.{name} IS DISTINCT FROM OLD.{name})"
        for name in set_once_columns
    )
    registration_row = ", ".join(f"NEW.{c}" for c in frozen_registration_columns)
    registration_old = ", ".join(f"OLD.{c}" for c in frozen_registration_columns)
    return f"""
CREATE FUNCTION registrations_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Factuur % is uitgereikt en mag niet worden verwijderd.', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    -- Every column but the mutable ones, so a column added later is frozen as well.
    IF (to_jsonb(NEW) - ARRAY[{quoted}]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{quoted}])
       OR {set_once} THEN
        RAISE EXCEPTION 'Factuur % is uitgereikt en kan niet worden gewijzigd; maak een creditfactuur.', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER registrations_invoice_guard BEFORE UPDATE OR DELETE ON {INVOICE}
    FOR EACH ROW EXECUTE FUNCTION registrations_invoice_guard();

CREATE FUNCTION registrations_invoiceline_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Een regel van een uitgereikte factuur kan niet worden gewijzigd of verwijderd.'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER registrations_invoiceline_guard BEFORE UPDATE OR DELETE ON {LINE}
    FOR EACH ROW EXECUTE FUNCTION registrations_invoiceline_guard();

CREATE FUNCTION invoicing_registration_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Anonymising after the retention period is the one other change allowed.
    IF ROW({registration_row}) IS DISTINCT FROM ROW({registration_old})
       AND NOT (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
       AND {invoiced} THEN
        RAISE EXCEPTION '{REGISTRATION_MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER invoicing_registration_guard BEFORE UPDATE ON {REGISTRATION}
    FOR EACH ROW EXECUTE FUNCTION invoicing_registration_guard();
"""


def _postgresql_order(frozen_order_columns):
    order_row = ", ".join(f"NEW.{c}" for c in frozen_order_columns)
    order_old = ", ".join(f"OLD.{c}" for c in frozen_order_columns)
    return f"""
CREATE FUNCTION invoicing_order_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW({order_row}) IS DISTINCT FROM ROW({order_old})
       AND NOT (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
       AND {INVOICED_ORDER} THEN
        RAISE EXCEPTION '{ORDER_MESSAGE}' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER invoicing_order_guard BEFORE UPDATE ON {ORDER}
    FOR EACH ROW EXECUTE FUNCTION invoicing_order_guard();
"""


def _sqlite_order(frozen_order_columns):
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen_order_columns)
    return [
        f"""CREATE TRIGGER invoicing_order_frozen BEFORE UPDATE ON {ORDER}
        WHEN ({changed})
            AND NOT (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
            AND {INVOICED_ORDER}
        BEGIN SELECT RAISE(ABORT, '{ORDER_MESSAGE}'); END""",
    ]


POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS registrations_invoice_guard ON {INVOICE};
DROP FUNCTION IF EXISTS registrations_invoice_guard();
DROP TRIGGER IF EXISTS registrations_invoiceline_guard ON {LINE};
DROP FUNCTION IF EXISTS registrations_invoiceline_guard();
DROP TRIGGER IF EXISTS invoicing_registration_guard ON {REGISTRATION};
DROP FUNCTION IF EXISTS invoicing_registration_guard();
DROP TRIGGER IF EXISTS invoicing_order_guard ON {ORDER};
DROP FUNCTION IF EXISTS invoicing_order_guard();
"""


def _sqlite(
    frozen_invoice_columns, frozen_registration_columns, set_once_columns, invoiced=INVOICED
):
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen_invoice_columns)
    set_once = " OR ".join(f"(OLD.{c} <> '' AND NEW.{c} IS NOT OLD.{c})" for c in set_once_columns)
    registration_changed = " OR ".join(
        f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen_registration_columns
    )
    return [
        f"""CREATE TRIGGER registrations_invoice_no_delete BEFORE DELETE ON {INVOICE}
        BEGIN SELECT RAISE(ABORT, 'Een uitgereikte factuur mag niet worden verwijderd.'); END""",
        f"""CREATE TRIGGER registrations_invoice_frozen BEFORE UPDATE ON {INVOICE}
        WHEN {changed} OR {set_once}
        BEGIN SELECT RAISE(ABORT,
            'Een uitgereikte factuur kan niet worden gewijzigd; maak een creditfactuur.'); END""",
        f"""CREATE TRIGGER registrations_invoiceline_frozen BEFORE UPDATE ON {LINE}
        BEGIN SELECT RAISE(ABORT, 'Een regel van een uitgereikte factuur kan niet worden gewijzigd.'); END""",
        f"""CREATE TRIGGER registrations_invoiceline_no_delete BEFORE DELETE ON {LINE}
        BEGIN SELECT RAISE(ABORT, 'Een regel van een uitgereikte factuur mag niet worden verwijderd.'); END""",
        f"""CREATE TRIGGER invoicing_registration_frozen BEFORE UPDATE ON {REGISTRATION}
        WHEN ({registration_changed})
            AND NOT (OLD.anonymised_at IS NULL AND NEW.anonymised_at IS NOT NULL)
            AND {invoiced}
        BEGIN SELECT RAISE(ABORT, '{REGISTRATION_MESSAGE}'); END""",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registrations_invoice_no_delete",
    "DROP TRIGGER IF EXISTS registrations_invoice_frozen",
    "DROP TRIGGER IF EXISTS registrations_invoiceline_frozen",
    "DROP TRIGGER IF EXISTS registrations_invoiceline_no_delete",
    "DROP TRIGGER IF EXISTS invoicing_registration_frozen",
    "DROP TRIGGER IF EXISTS invoicing_order_frozen",
]


def _columns(model, names):
    return [model._meta.get_field(name).column for name in names]


def create(apps, schema_editor, registration_fields, order_fields=None):
    """Create every guard for the models as `apps` has them at this migration.

    `registration_fields`: the registration fields an invoice froze, as the migration knows
    them (INVOICE_FROZEN_FIELDS of that time). `order_fields`: the order's fields an invoice
    froze (ORDER_FROZEN_FIELDS), since invoices are for orders; before that, None.
    """
    Invoice = apps.get_model("invoicing", "Invoice")
    Registration = apps.get_model("registrations", "Registration")
    frozen_registration = _columns(Registration, registration_fields)
    frozen_invoice = [
        field.column
        for field in Invoice._meta.concrete_fields
        if field.name not in MUTABLE and not field.primary_key
    ]
    # An older migration knows fewer set-once columns (ubl_sha256 came with e-invoices).
    existing = {field.name for field in Invoice._meta.concrete_fields}
    set_once = [name for name in SET_ONCE if name in existing]
    if order_fields is None:
        execute(
            schema_editor,
            _postgresql(frozen_registration, set_once),
            _sqlite(frozen_invoice, frozen_registration, set_once),
        )
        return
    frozen_order = _columns(apps.get_model("registrations", "Order"), order_fields)
    execute(
        schema_editor,
        _postgresql(frozen_registration, set_once, INVOICED_POSITION)
        + _postgresql_order(frozen_order),
        _sqlite(frozen_invoice, frozen_registration, set_once, INVOICED_POSITION)
        + _sqlite_order(frozen_order),
    )


def drop(apps, schema_editor):
    execute(schema_editor, POSTGRESQL_DROP, SQLITE_DROP)
