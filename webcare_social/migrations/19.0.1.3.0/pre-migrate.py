"""19.0.1.3.0: provider-neutral channels; the X fields lose their ``x_`` prefix.

``x_`` is the prefix Odoo reserves for fields made in the user interface, and
the credentials are now named for what they are, whichever network reads
them. The columns (and their field records, so Odoo does not drop them as
removed fields) are renamed before the module is loaded: the credentials
survive the upgrade. The two X cursors become rows of
``webcare.channel.stream`` in post-migrate; until then they wait in columns
no field owns.
"""

from odoo.tools.sql import column_exists, rename_column

RENAMES = {
    "x_bearer_token": "bearer_token",
    "x_consumer_key": "api_key",
    "x_consumer_secret": "api_key_secret",
    "x_access_token": "access_token",
    "x_access_token_secret": "access_token_secret",
    # kept aside for post-migrate
    "x_mentions_since_id": "webcare_old_mentions_cursor",
    "x_dm_last_id": "webcare_old_dms_cursor",
}


def migrate(cr, version):
    for old, new in RENAMES.items():
        if not column_exists(cr, "webcare_channel", old) or column_exists(
            cr, "webcare_channel", new
        ):
            continue
        rename_column(cr, "webcare_channel", old, new)
        if new.startswith("webcare_old_"):
            _forget_field(cr, old)
        else:
            _rename_field(cr, old, new)


def _rename_field(cr, old, new):
    cr.execute(
        "UPDATE ir_model_fields SET name = %s "
        "WHERE model = 'webcare.channel' AND name = %s",
        (new, old),
    )
    cr.execute(
        "UPDATE ir_model_data SET name = %s "
        "WHERE module = 'webcare_social' AND model = 'ir.model.fields' AND name = %s",
        (f"field_webcare_channel__{new}", f"field_webcare_channel__{old}"),
    )


def _forget_field(cr, old):
    """Drop the field record (not the column, which was renamed away)."""
    cr.execute(
        "DELETE FROM ir_model_data WHERE module = 'webcare_social' "
        "AND model = 'ir.model.fields' AND name = %s",
        (f"field_webcare_channel__{old}",),
    )
    cr.execute(
        "DELETE FROM ir_model_fields WHERE model = 'webcare.channel' AND name = %s",
        (old,),
    )
