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


@tagged("post_install", "-at_install")
class TestChannelHealth(XChannelCase):
    """What the channel kanban tells a manager about an import."""

    def test_counts_open_the_messages_they_count(self):
        self.mention(STRANGER_ID, "een vraag")
        self.standin.add_tweet(STRANGER_ID, "RT @PolderAir: promo", retweet_of="1")
        self.fetch()
        self.assertEqual(self.channel.received_24h, 2)
        self.assertEqual(self.channel.ticketed_24h, 1)
        Message = self.env["webcare.message"]
        for state, expected in (("all", 2), ("ticketed", 1), ("ignored", 1)):
            action = self.channel.with_context(
                webcare_health_state=state
            ).action_view_messages()
            self.assertEqual(Message.search_count(action["domain"]), expected, state)

    def test_next_import_follows_the_cron_and_the_rate_limit(self):
        cron = self.env.ref("webcare_social.ir_cron_webcare_fetch")
        cron.nextcall = "2026-11-23 10:00:00"
        self.assertEqual(str(self.channel.next_fetch_at), "2026-11-23 10:00:00")
        self.channel.rate_limited_until = "2026-11-23 10:12:00"
        self.assertEqual(str(self.channel.next_fetch_at), "2026-11-23 10:12:00")
        self.channel.action_pause()
        self.assertFalse(self.channel.next_fetch_at)

    def test_a_paused_channel_imports_and_sends_nothing(self):
        self.mention(STRANGER_ID, "eerste vraag")
        self.fetch()
        ticket = self.channel.webcare_message_ids.ticket_id
        reply = ticket.webcare_reply("@frequentflyer We kijken ernaar.")
        self.channel.action_pause()
        self.assertEqual(self.channel.state, "paused")
        self.mention(STRANGER_ID, "tweede vraag")
        self.env["webcare.channel"]._cron_fetch()
        self.env["webcare.message"]._cron_send()
        self.assertEqual(len(self.channel.webcare_message_ids), 2)  # 1 in, 1 out
        self.assertEqual(reply.state, "outgoing")
        self.assertFalse(self.standin.posted)
        self.channel.action_resume()
        self.env["webcare.channel"]._cron_fetch()
        self.env["webcare.message"]._cron_send()
        self.assertEqual(reply.state, "sent")
        self.assertEqual(self.channel.received_24h, 2)

    def test_managers_hear_once_of_a_channel_failing_for_a_day(self):
        self.standin.fail_next("/2/users", 503, times=3)  # three runs fail
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
        self.assertTrue(self.channel.failing_since)
        self.assertFalse(self.channel.failing_notified)  # not a day yet
        self.channel.failing_since = "2026-11-01 08:00:00"
        with mute_logger(CHANNEL_LOGGER):
            self.fetch()
            self.fetch()
        notices = self.channel.message_ids.filtered(
            lambda m: "has succeeded since" in (m.body or "")
        )
        self.assertEqual(len(notices), 1)
        manager = self.env.ref("base.user_admin").partner_id
        self.assertIn(manager, notices.partner_ids)
        self.fetch()  # the network is back
        self.assertFalse(self.channel.failing_since)
        self.assertFalse(self.channel.last_error)

    def test_connecting_another_account_starts_its_streams_afresh(self):
        self.mention(STRANGER_ID, "eerste")
        self.fetch()
        self.assertTrue(self.channel._cursor("mentions"))
        self.channel.action_test_connection()  # the same account: cursors stay
        self.assertTrue(self.channel._cursor("mentions"))
        self.channel.account_external_id = "1500000000000000999"
        action = self.channel.action_test_connection()
        self.assertFalse(self.channel.stream_ids)
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")
