from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import file_open, mute_logger

from .common_x import ANNA_ID, STRANGER_ID, XChannelCase

CHANNEL_LOGGER = "odoo.addons.webcare_social.models.webcare_channel"


@tagged("post_install", "-at_install")
class TestChannel(XChannelCase):
    def test_health_counts_last_24h(self):
        self.mention(STRANGER_ID, "question one")
        self.mention(ANNA_ID, "question two")
        self.standin.add_tweet(STRANGER_ID, "RT @PolderAir: promo", retweet_of="1")
        self.fetch()
        self.assertEqual(self.channel.ticketed_24h, 2)
        self.assertEqual(self.channel.ignored_24h, 1)
        self.assertEqual(self.channel.failed_24h, 0)
        self.assertTrue(self.channel.last_fetch_at)

    def test_cron_imports_connected_channels_only(self):
        draft = self.channel.copy({"name": "Not connected yet"})
        self.assertEqual(draft.state, "draft")
        self.mention(STRANGER_ID, "via the cron")
        self.env["webcare.channel"]._cron_fetch()
        self.assertEqual(self.channel.ticketed_24h, 1)
        self.assertFalse(draft.last_fetch_at)

    def test_one_channel_per_account(self):
        twin = self.channel.copy({"name": "Same account again"})
        with (
            self.assertRaises(IntegrityError) as caught,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            twin.account_external_id = self.channel.account_external_id
            twin.flush_recordset()
        message = twin._sql_error_to_message(caught.exception)
        self.assertIn("already connected by another channel", message)

    def test_cron_record_exists_and_runs_the_import(self):
        cron = self.env.ref("webcare_social.ir_cron_webcare_fetch")
        self.assertEqual(cron.code.strip(), "model._cron_fetch()")
        self.assertTrue(cron.active)

    def test_refused_cursor_falls_back_to_full_resync(self):
        self.mention(STRANGER_ID, "still imported")
        self.channel._set_cursor("mentions", "not-a-snowflake")
        self.fetch()
        self.assertEqual(self.channel.ticketed_24h, 1)
        self.assertFalse(self.channel.last_error)
        self.assertNotEqual(self.channel._cursor("mentions"), "not-a-snowflake")

    def test_retry_of_unreadable_item_keeps_it_failed_with_reason(self):
        bad = self.mention(STRANGER_ID, "broken")
        self.standin.malform_next(
            "/2/users", lambda body: body["data"][0].pop("created_at")
        )
        self.fetch()
        failed = self.message(bad["id"])
        self.assertEqual(failed.state, "failed")
        failed.action_retry()
        self.assertEqual(failed.state, "failed")
        self.assertIn("created_at", failed.error)

    def test_credentials_visible_to_settings_admins_only(self):
        manager = new_test_user(
            self.env,
            login="wc_chan_manager",
            groups="webcare_social.group_webcare_manager",
        )
        channel = self.channel.with_user(manager)
        self.assertEqual(channel.name, "PolderAir on X")
        with self.assertRaises(AccessError):
            channel.read(["bearer_token"])
        self.assertNotIn("bearer_token", channel.fields_get())

    def test_agent_cannot_configure_channels(self):
        agent = new_test_user(
            self.env, login="wc_chan_agent", groups="webcare_social.group_webcare_agent"
        )
        with self.assertRaises(AccessError):
            self.channel.with_user(agent).write(
                {"api_base_url": "https://evil.example"}
            )

    def test_neutralize_blanks_credentials(self):
        self.env.flush_all()
        with file_open("webcare_social/data/neutralize.sql") as sql:
            self.env.cr.execute(sql.read())
        self.channel.invalidate_recordset()
        self.assertFalse(self.channel.bearer_token)
        self.assertFalse(self.channel.access_token_secret)
        self.assertEqual(self.channel.state, "draft")

    def test_connection_error_is_readable(self):
        self.channel.bearer_token = "nope"
        self.channel.api_key = "nope"
        with mute_logger(CHANNEL_LOGGER):
            action = self.channel.action_test_connection()
        self.assertEqual(self.channel.state, "error")
        self.assertEqual(action["params"]["type"], "danger")
        self.assertTrue(self.channel.last_error)
