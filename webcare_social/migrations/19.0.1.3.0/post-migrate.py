"""19.0.1.3.0: the X cursors kept aside by pre-migrate become stream rows.

An X channel goes on reading where it stopped: its mentions ``since_id`` and
its last DM event id are the cursors of its ``mentions`` and ``dms`` streams.
"""

from odoo.tools.sql import column_exists

STREAMS = {"mentions": "webcare_old_mentions_cursor", "dms": "webcare_old_dms_cursor"}


def migrate(cr, version):
    for code, column in STREAMS.items():
        if not column_exists(cr, "webcare_channel", column):
            continue
        cr.execute(
            f"""
            INSERT INTO webcare_channel_stream
                   (channel_id, code, cursor, create_uid, create_date,
                    write_uid, write_date)
            SELECT id, %s, "{column}", 1, now() AT TIME ZONE 'UTC',
                   1, now() AT TIME ZONE 'UTC'
              FROM webcare_channel
             WHERE "{column}" IS NOT NULL AND "{column}" != ''
            ON CONFLICT (channel_id, code) DO NOTHING
            """,
            (code,),
        )
        cr.execute(f'ALTER TABLE webcare_channel DROP COLUMN "{column}"')
