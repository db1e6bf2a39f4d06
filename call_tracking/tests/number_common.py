from odoo.tests import TransactionCase, new_test_user
from odoo.tools import SQL

# US numbers (the test company is the demo company, in the United States)
DEFAULT = "+12125550100"
FALLBACK = "+12125550199"
SEO = "+12125550111"
DIRECT = "+12125550112"
BILLBOARD = "+12125550113"
POOL = ("+12125550121", "+12125550122", "+12125550123")

GOOGLE_ADS_URL = "https://shop.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring"
FACEBOOK_URL = "https://shop.example.com/offers?fbclid=IwAR0abc"
PAGE_URL = "https://shop.example.com/contactus"
SAME_SITE = "https://shop.example.com/"


class NumberAssignmentCommon(TransactionCase):
    """A company with a combined setup: a pool of three numbers shared by
    Google Ads and Facebook Ads, static SEO and direct channels, an offline
    billboard, and a default number; another company with its own channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company = env.company
        cls.company.country_id = env.ref("base.us")
        cls.company.call_tracking_default_number = DEFAULT
        # start from a known setup, with or without the demo data
        env["call.tracking.channel"].search([("company_id", "=", cls.company.id)]).active = False
        Number = env["call.tracking.number"]
        cls.pool = env["call.tracking.pool"].create(
            {"name": "Paid", "hold_minutes": 30, "default_number": FALLBACK}
        )
        cls.pool_numbers = Number.create(
            [
                {"number": number, "pool_id": cls.pool.id, "sequence": index}
                for index, number in enumerate(POOL)
            ]
        )
        cls.number_seo, cls.number_direct, cls.number_billboard = Number.create(
            [{"number": SEO}, {"number": DIRECT}, {"number": BILLBOARD}]
        )
        Channel = env["call.tracking.channel"]
        cls.channel_google = Channel.create(
            {
                "name": "Google Ads",
                "sequence": 10,
                "tracking_type": "dynamic",
                "pool_id": cls.pool.id,
                "rule_ids": [
                    (0, 0, {"utm_source": "google, adwords", "utm_medium": "cpc"}),
                    (0, 0, {"landing_param": "gclid"}),
                ],
            }
        )
        cls.channel_facebook = Channel.create(
            {
                "name": "Facebook Ads",
                "sequence": 20,
                "tracking_type": "dynamic",
                "pool_id": cls.pool.id,
                "rule_ids": [
                    (0, 0, {"utm_source": "facebook"}),
                    (0, 0, {"landing_param": "fbclid"}),
                ],
            }
        )
        cls.channel_seo = Channel.create(
            {
                "name": "SEO",
                "sequence": 30,
                "number_id": cls.number_seo.id,
                "rule_ids": [(0, 0, {"referrer_type": "search"})],
            }
        )
        cls.channel_billboard = Channel.create(
            {
                "name": "Billboard",
                "sequence": 5,
                "number_id": cls.number_billboard.id,
                "is_offline": True,
                "rule_ids": [(0, 0, {"utm_source": "billboard"})],
            }
        )
        cls.channel_direct = Channel.create(
            {
                "name": "Direct",
                "sequence": 100,
                "number_id": cls.number_direct.id,
                "is_default": True,
            }
        )
        cls.company_2 = env["res.company"].create(
            {
                "name": "Other Company",
                "country_id": env.ref("base.be").id,
                "call_tracking_default_number": "02 555 12 34",
            }
        )
        cls.number_2 = Number.create({"number": "02 555 12 35", "company_id": cls.company_2.id})
        cls.channel_2 = Channel.create(
            {
                "name": "Other Google",
                "company_id": cls.company_2.id,
                "number_id": cls.number_2.id,
                "rule_ids": [(0, 0, {"utm_source": "google"})],
            }
        )
        cls.salesman = new_test_user(
            env,
            login="ct_number_salesman",
            groups="sales_team.group_sale_salesman",
            name="Nora Salesman",
        )
        cls.manager = new_test_user(
            env,
            login="ct_number_manager",
            groups="sales_team.group_sale_manager",
            name="Mark Manager",
        )

    def assign(self, url=None, referrer=None, key=None, company=None, **kwargs):
        return self.env["call.tracking.session"]._assign_number(
            company or self.company, visitor_key=key, url=url, referrer=referrer, **kwargs
        )

    def sessions(self, key):
        return self.env["call.tracking.session"].search([("visitor_key", "=", key)])

    def time_passes(self, minutes):
        """Move every session, lease and release ``minutes`` into the past:
        for the database, ``minutes`` have passed."""
        self.env.flush_all()
        delta = SQL("%s::interval", f"{minutes} minutes")
        # rows move one by one: check the lease exclusion once all have moved
        self.env.cr.execute(SQL("SET CONSTRAINTS call_tracking_session_lease_exclusion DEFERRED"))
        self.env.cr.execute(
            SQL(
                """
            UPDATE call_tracking_session
               SET assigned_at = assigned_at - %(delta)s,
                   last_seen_at = last_seen_at - %(delta)s,
                   expires_at = expires_at - %(delta)s
                """,
                delta=delta,
            )
        )
        self.env.cr.execute(
            SQL(
                """
            UPDATE call_tracking_number
               SET lease_expires_at = lease_expires_at - %(delta)s,
                   last_released_at = last_released_at - %(delta)s
                """,
                delta=delta,
            )
        )
        self.env.cr.execute(SQL("SET CONSTRAINTS call_tracking_session_lease_exclusion IMMEDIATE"))
        self.env.invalidate_all()
