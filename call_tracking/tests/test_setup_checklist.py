from odoo.tests import tagged

from .common import CallTrackingCommon


@tagged("post_install", "-at_install")
class TestSetupChecklist(CallTrackingCommon):
    """The setup checklist follows the company's configuration step by step,
    and the app opens on it while the company has no tracking number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_3 = cls.env["res.company"].create(
            {"name": "New Company", "country_id": cls.env.ref("base.us").id}
        )
        cls.company_3.phone = "+1 212-555-0177"
        (cls.ct_admin | cls.salesman).write({"company_ids": [(4, cls.company_3.id)]})

    def _setup(self, user=None):
        Setup = self.env["call.tracking.setup"].with_user(user or self.ct_admin)
        return Setup.with_company(self.company_3).create({})

    def _done(self, setup):
        self.env.invalidate_all()
        return [
            step
            for step in ("default", "numbers", "channels", "provider", "snippet", "test_call")
            if setup[f"{step}_done"]
        ]

    def test_home_action(self):
        """Nothing configured: administrators land on the checklist,
        salespeople on their calls; once a number exists, on the calls."""
        Setup = self.env["call.tracking.setup"].with_company(self.company_3)
        action = Setup.with_user(self.ct_admin)._action_open_home()
        self.assertEqual(action["res_model"], "call.tracking.setup")
        action = Setup.with_user(self.salesman)._action_open_home()
        self.assertEqual(action["res_model"], "call.tracking.call")
        # the home server action itself runs for both
        home = self.env.ref("call_tracking.call_tracking_action_home")
        for user in (self.salesman, self.ct_admin):
            self.assertTrue(home.with_user(user).with_company(self.company_3).run())
        self.env["call.tracking.number"].create(
            {"number": "+1 212-555-0178", "company_id": self.company_3.id}
        )
        action = Setup.with_user(self.ct_admin)._action_open_home()
        self.assertEqual(action["res_model"], "call.tracking.call")
        # the main company is configured: calls
        action = self.env["call.tracking.setup"].with_user(self.ct_admin)._action_open_home()
        self.assertEqual(action["res_model"], "call.tracking.call")

    def test_steps(self):
        setup = self._setup()
        self.assertEqual(self._done(setup), [])
        self.assertEqual(setup.progress, 0)
        self.assertIn("call_tracking_core.js", setup.snippet)
        # 1: the company phone becomes the default number, in one click
        setup.action_use_company_phone()
        self.assertEqual(self.company_3.call_tracking_default_number, "+12125550177")
        self.assertEqual(self._done(setup), ["default"])
        # 2: numbers
        provider = self.env["call.tracking.provider"].create(
            {"name": "New PBX", "company_id": self.company_3.id}
        )
        number = self.env["call.tracking.number"].create(
            {"number": "+1 212-555-0178", "company_id": self.company_3.id}
        )
        self.assertEqual(self._done(setup), ["default", "numbers"])
        # 3: a static channel with its number
        self.env["call.tracking.channel"].create(
            {
                "name": "Flyer",
                "company_id": self.company_3.id,
                "tracking_type": "static",
                "number_id": number.id,
            }
        )
        self.assertEqual(self._done(setup), ["default", "numbers", "channels"])
        # 4: a provider with its secret and its numbers; its webhook URL shows
        self.assertEqual(setup.provider_id, provider)
        self.assertIn("/call_tracking/webhook/", setup.webhook_url)
        provider.secret_input = "new-secret-0123456789"
        number.provider_id = provider
        self.assertEqual(self._done(setup), ["default", "numbers", "channels", "provider"])
        # 5: another site allowed
        self.env["website"].create(
            {
                "name": "New Company site",
                "company_id": self.company_3.id,
                "call_tracking_cors_origins": "https://shop.example.com",
            }
        )
        # 6: a test call, from the checklist's button
        action = setup.with_user(self.ct_admin).action_test_call()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(setup.progress, 6)
        self.assertEqual(
            self.env["call.tracking.call"].search([("company_id", "=", self.company_3.id)]).is_test,
            True,
        )

    def test_step_links(self):
        """Every step's button opens its place."""
        setup = self._setup()
        for method, model in (
            ("action_open_settings", "res.config.settings"),
            ("action_open_numbers", "call.tracking.number"),
            ("action_open_pools", "call.tracking.pool"),
            ("action_open_channels", "call.tracking.channel"),
            ("action_open_providers", "call.tracking.provider"),
            ("action_open_calls", "call.tracking.call"),
            ("action_test_call", "call.tracking.number"),  # no number with a provider yet
        ):
            with self.subTest(method=method):
                self.assertEqual(getattr(setup, method)()["res_model"], model)

    def test_settings_use_company_phone(self):
        """The settings offer the company phone as the default number."""
        self.company.phone = "(212) 555-0166"
        self.company.call_tracking_default_number = False
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.call_tracking_company_phone, "(212) 555-0166")
        settings.action_call_tracking_use_company_phone()
        self.assertEqual(self.company.call_tracking_default_number, "+12125550166")
