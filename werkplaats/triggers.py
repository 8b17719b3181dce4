"""Installing database triggers: the PostgreSQL script or the SQLite statements, per database.

The triggers themselves (what they guard, their SQL) live in the app that owns the rule
(registrations/guards.py, registrations/invoicing/guards.py); migrations call those.
"""


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
