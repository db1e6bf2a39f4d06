from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.modules.registry import Registry
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from .common import GOOGLE_ADS_URL, CallTrackingCommon


@tagged("post_install", "-at_install")
class TestNumberConfig(CallTrackingCommon):
    def test_numbers_are_stored_in_e164(self):
        Number = self.env["call.tracking.number"]
        numbers = Number.create(
            [{"number": "(212) 555-0141"}, {"number": "+1 212 555 0142"}, {"number": "2125550143"}]
        )
        self.assertEqual(numbers.mapped("number"), ["+12125550141", "+12125550142", "+12125550143"])
        self.assertEqual(numbers[0].number_display, "(212) 555-0141")
        numbers[0].number = "212.555.0144"
        self.assertEqual(numbers[0].number, "+12125550144")
        # the company's country is the default region
        belgian = Number.create({"number": "02 555 12 36", "company_id": self.company_2.id})
        self.assertEqual(belgian.number, "+3225551236")
        self.assertEqual(self.company_2.call_tracking_default_number, "+3225551234")
        self.assertEqual(self.pool.default_number, "+12125550199")

    def test_format_display(self):
        """Numbers are shown through phone_validation, in the company's
        format: national for its own country's numbers, else international."""
        Number = self.env["call.tracking.number"]
        self.assertEqual(Number._format_display("+12125550141", self.company), "(212) 555-0141")
        # a foreign number is written internationally even in national mode
        self.assertEqual(Number._format_display("+380441234567", self.company), "+380 44 123 4567")
        self.assertEqual(Number._format_display(False, self.company), "")
        self.assertEqual(Number._format_display("anonymous", self.company), "anonymous")
        self.company.call_tracking_display_format = "international"
        self.assertEqual(Number._format_display("+12125550141", self.company), "+1 212-555-0141")
        self.assertEqual(self.pool_numbers[0].number_display, "+1 212-555-0121")
        self.assertEqual(self.assign(GOOGLE_ADS_URL)["display"], "+1 212-555-0121")

    def test_invalid_numbers_are_refused(self):
        Number = self.env["call.tracking.number"]
        for bad in ("12345", "not a number", "+1 212 555"):
            with self.assertRaises(ValidationError) as catcher:
                Number.create({"number": bad})
            self.assertIn(bad, str(catcher.exception))
        with self.assertRaises(ValidationError) as catcher:
            self.pool.default_number = "555"
        self.assertEqual(
            str(catcher.exception),
            "The fallback number is not a valid phone number. "
            "Impossible number 555: not enough digits.",
        )
        with self.assertRaises(ValidationError):
            self.company.call_tracking_default_number = "0000"

    def test_number_unique_per_company(self):
        Number = self.env["call.tracking.number"]
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.env.cr.savepoint(),
        ):
            Number.create({"number": "(212) 555-0111"})  # the SEO number, other format
        # another company may register the same number
        Number.create({"number": "+12125550111", "company_id": self.company_2.id})

    def test_channel_constraints(self):
        with self.assertRaises(ValidationError):
            self.channel_seo.number_id = self.pool_numbers[0]
        with self.assertRaises(ValidationError):
            self.env["call.tracking.channel"].create({"name": "Second direct", "is_default": True})
        with self.assertRaises(ValidationError):
            self.env["call.tracking.channel.rule"].create({"channel_id": self.channel_seo.id})
        with self.assertRaises(ValidationError):
            self.channel_2.number_id = self.number_seo

    def test_setup_cache_cleared_only_when_the_setup_changes(self):
        """Clearing Odoo's caches is felt by every worker: a change the number
        assignment does not read (a colour, a label, a cost goal) keeps them."""
        with patch.object(Registry, "clear_cache") as clear_cache:
            self.channel_google.write({"color": 3, "targeted_goal": 50.0})
            self.pool_numbers[0].name = "Pool number A"
            self.pool.name = "Paid search"
            clear_cache.assert_not_called()
            for record, vals in (
                (self.channel_google, {"sequence": 7}),
                (self.channel_google.rule_ids[:1], {"utm_medium": "ppc"}),
                (self.pool_numbers[0], {"active": False}),
                (self.pool, {"hold_minutes": 20}),
                (self.company, {"call_tracking_display_format": "international"}),
            ):
                clear_cache.reset_mock()
                record.write(vals)
                clear_cache.assert_called()

    def test_default_numbers_read_with_each_company_country(self):
        france, ukraine = self.env["res.company"].create(
            [
                {"name": "French Company", "country_id": self.env.ref("base.fr").id},
                {"name": "Ukrainian Company", "country_id": self.env.ref("base.ua").id},
            ]
        )
        (france | ukraine).write({"call_tracking_default_number": "06 12 34 56 78"})
        self.assertEqual(france.call_tracking_default_number, "+33612345678")
        self.assertEqual(ukraine.call_tracking_default_number, "+380612345678")
        # a country written at the same time is the one the number is read with
        (france | ukraine).write(
            {"country_id": self.env.ref("base.ua").id, "call_tracking_default_number": "0612345679"}
        )
        self.assertEqual(
            (france | ukraine).mapped("call_tracking_default_number"),
            ["+380612345679", "+380612345679"],
        )
        # pools of both companies: each fallback read with its company's country
        france.country_id = self.env.ref("base.fr")
        pools = self.env["call.tracking.pool"].create(
            [
                {"name": "FR pool", "company_id": france.id, "default_number": "06 12 34 56 70"},
                {"name": "UA pool", "company_id": ukraine.id, "default_number": "06 12 34 56 70"},
            ]
        )
        self.assertEqual(pools.mapped("default_number"), ["+33612345670", "+380612345670"])
        pools.default_number = "06 12 34 56 71"
        self.assertEqual(pools.mapped("default_number"), ["+33612345671", "+380612345671"])

    def test_new_website_origin_is_allowed(self):
        Website = self.env["website"]
        self.assertNotIn("https://new-shop.example.com", Website._call_tracking_get_all_origins())
        Website.create({"name": "New shop", "domain": "https://new-shop.example.com"})
        self.assertIn("https://new-shop.example.com", Website._call_tracking_get_all_origins())

    def test_pool_figures(self):
        self.assertRecordValues(
            self.pool, [{"number_count": 3, "live_lease_count": 0, "utilisation": 0.0}]
        )
        self.assign("https://x.test/?gclid=1")
        self.pool.invalidate_recordset()
        self.assertRecordValues(
            self.pool, [{"number_count": 3, "live_lease_count": 1, "utilisation": 100.0 / 3}]
        )
        self.assertEqual(
            self.env["call.tracking.number"].search(
                [("pool_id", "=", self.pool.id), ("is_leased", "=", True)]
            ),
            self.pool_numbers[0],
        )


@tagged("post_install", "-at_install")
class TestNumberAccess(CallTrackingCommon):
    @users("ct_salesman")
    def test_salesman_reads_config_but_cannot_change_it(self):
        channel = self.env["call.tracking.channel"].browse(self.channel_google.id)
        self.assertEqual(channel.pool_id.number_ids.mapped("number")[0], "+12125550121")
        self.assertTrue(channel.rule_ids)
        with self.assertRaises(AccessError):
            channel.name = "Renamed"
        with self.assertRaises(AccessError):
            self.env["call.tracking.number"].create({"number": "+12125550150"})
        with self.assertRaises(AccessError):
            self.env["call.tracking.pool"].browse(self.pool.id).hold_minutes = 5
        with self.assertRaises(AccessError):
            self.env["call.tracking.channel.rule"].browse(channel.rule_ids[0].id).unlink()

    @users("ct_manager")
    def test_manager_configures(self):
        channel = self.env["call.tracking.channel"].browse(self.channel_google.id)
        channel.name = "Google Search Ads"
        self.env["call.tracking.number"].create({"number": "+12125550151", "pool_id": self.pool.id})
        self.assertEqual(self.pool.with_user(self.env.user).number_count, 4)

    @users("ct_manager")
    def test_multi_company_isolation(self):
        # the manager only works in the first company
        self.assertNotIn(self.company_2, self.env.user.company_ids)
        Number = self.env["call.tracking.number"]
        self.assertFalse(Number.search([("company_id", "=", self.company_2.id)]))
        with self.assertRaises(AccessError):
            Number.browse(self.number_2.id).number  # noqa: B018
        with self.assertRaises(AccessError):
            self.env["call.tracking.channel.rule"].browse(self.channel_2.rule_ids.id).utm_source  # noqa: B018

    def test_public_and_portal_read_nothing(self):
        records = (
            self.channel_google,
            self.channel_google.rule_ids[:1],
            self.pool_numbers[0],
            self.pool,
        )
        self.assign("https://x.test/?gclid=1")
        session = self.env["call.tracking.session"].search([], limit=1)
        self.env["call.tracking.pool.stat"]._refresh(self.pool)
        stat = self.env["call.tracking.pool.stat"].search([], limit=1)
        for user in (self.public, self.portal):
            for record in (*records, session, stat):
                with self.assertRaises(AccessError, msg=f"{user.login} {record}"):
                    record.with_user(user).check_access("read")
