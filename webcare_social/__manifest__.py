# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Webcare: Social Customer Service",
    "summary": "Social identities on contacts, mentions and DMs as helpdesk tickets, "
    "one customer view for social media and the call centre",
    "version": "19.0.1.1.0",
    "category": "After-Sales",
    "license": "LGPL-3",
    "author": "webcare_social developers",
    "website": "https://example.com/webcare_social",
    "maintainers": ["webcare-social"],
    "development_status": "Alpha",
    "depends": ["bus", "contacts", "helpdesk_mgmt", "phone_validation"],
    "external_dependencies": {
        "python": ["tweepy", "phonenumbers", "python-dateutil", "requests"],
    },
    "data": [
        "security/webcare_social_security.xml",
        "security/ir.model.access.csv",
        "data/helpdesk_ticket_channel_data.xml",
        "data/mail_message_subtype_data.xml",
        "data/ir_cron_data.xml",
        "views/webcare_identity_views.xml",
        "views/res_partner_views.xml",
        "views/webcare_channel_views.xml",
        "views/webcare_message_views.xml",
        "views/helpdesk_ticket_views.xml",
        "views/webcare_call_views.xml",
        "views/res_config_settings_views.xml",
        "views/webcare_social_menus.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/webcare_channel_demo.xml",
        "demo/webcare_call_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "webcare_social/static/src/**/*",
        ],
        "web.assets_tests": [
            "webcare_social/static/tests/tours/**/*",
        ],
    },
    "application": True,
    "installable": True,
}
