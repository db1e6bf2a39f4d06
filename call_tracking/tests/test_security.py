"""Who can read what: every model of the module, as realistic users.

One company with the whole setup and one of everything (a visitor session,
a call through a signed webhook, its inbox entry, a cost, pool statistics);
a second company with its own sales manager; a salesperson, a sales
manager, a portal user and the public user.
"""

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import BROWSER_UA, GOOGLE_ADS_URL, POOL, SECRET, CallTrackingCommon


@tagged("post_install", "-at_install")
class TestCallTrackingSecurity(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # a visitor from Google Ads leases the first pool number and calls it
        # (their browser and address: the client lock rows), a crawler is
        # refused a lease (a refusal counter)
        cls.answer = env["call.tracking.session"]._assign_number(
            cls.company, url=GOOGLE_ADS_URL, user_agent=BROWSER_UA, remote_addr="192.0.2.7"
        )
        env["call.tracking.session"]._assign_number(
            cls.company, url=GOOGLE_ADS_URL, user_agent="curl/8.5.0", remote_addr="192.0.2.8"
        )
        cls.session = env["call.tracking.session"].search(
            [("visitor_key", "=", cls.answer["visitor"])]
        )
        # a conversion destination (a closed local port): the call below
        # makes its conversion, skipped (the visit has no GA client id)
        env["call.tracking.destination"].create(
            {
                "name": "Security GA4",
                "kind": "ga4",
                "account_ref": "G-SECURITY1",
                "secret_input": "security-ga4-secret",
                "endpoint_url": "http://127.0.0.1:9/mp/collect",
            }
        )
        payload = {
            "event": "call_end",
            "call_id": "security-1",
            "from": "+12125550177",
            "to": POOL[0],
            "start": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": 60,
            "talk_duration": 50,
            "status": "answered",
        }
        status, _content_type, answer = cls._receive_signed(payload)
        assert status == 200, answer
        cls.call = env["call.tracking.call"].search([("provider_call_id", "=", "security-1")])
        env["call.tracking.cost"].create(
            {
                "channel_id": cls.channel_google.id,
                "date_from": "2026-01-01",
                "date_to": "2026-01-31",
                "amount": 100.0,
            }
        )
        env["call.tracking.quality.reason"].create(
            {"name": "Company only reason", "company_id": cls.company.id}
        )
        env["call.tracking.pool.stat"]._refresh(cls.pool)
        cls.module_models = [
            model
            for model in env["ir.model"]
            .browse(
                env["ir.model.data"]
                .search([("module", "=", "call_tracking"), ("model", "=", "ir.model")])
                .mapped("res_id")
            )
            .mapped("model")
            # the module's own models (the inherited ones have xml ids too)
            if model.startswith("call.tracking.")
            and not env[model]._abstract
            and not env[model]._transient
        ]

    def test_fixture(self):
        """The fixture holds what the other tests rely on."""
        self.assertEqual(self.answer["mode"], "dynamic")
        self.assertEqual(self.call.session_id, self.session)
        self.assertEqual(self.call.user_id, self.salesman)
        self.assertIn("call.tracking.session", self.module_models)
        self.assertIn("call.tracking.call.report", self.module_models)
        self.assertGreaterEqual(len(self.module_models), 14)

    # ------------------------------------------------------------------
    # provider secrets
    # ------------------------------------------------------------------

    @users("ct_salesman")
    def test_salesperson_never_reads_provider_secrets(self):
        provider = self.provider.with_env(self.env)
        number = self.pool_numbers[0].with_env(self.env)
        # the provider itself is readable (its name shows on numbers and calls)
        self.assertEqual(provider.read(["name"])[0]["name"], "Generic test provider")
        self.assertNotIn("secret", provider.fields_get())
        for fname in ("secret", "webhook_token", "webhook_url"):
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    provider.read([fname])
                with self.assertRaises(AccessError):
                    self.env["call.tracking.provider"].search_read([], [fname])
                with self.assertRaises(AccessError):
                    provider.web_read({fname: {}})
                # through the relation, as the web client reads a form
                with self.assertRaises(AccessError):
                    number.web_read({"provider_id": {"fields": {fname: {}}}})
        # nor guessed through a search or a grouping (an oracle on the value)
        with self.assertRaises(AccessError):
            self.env["call.tracking.number"].search([("provider_id.secret", "=like", "s%")])
        with self.assertRaises(AccessError):
            self.env["call.tracking.provider"].search([("webhook_token", "!=", False)])
        with self.assertRaises(AccessError):
            self.env["call.tracking.provider"].read_group([], ["__count"], ["secret"])

    @users("ct_manager")
    def test_manager_sets_but_never_reads_provider_secrets(self):
        """A call tracking (and sales) manager sees the webhook URL and sets
        the signing secret through the write-only field, but cannot read it
        back over RPC or the ORM: only Settings administrators can."""
        provider = self.provider.with_env(self.env)
        self.assertIn("/call_tracking/webhook/", provider.webhook_url)
        self.assertTrue(provider.has_secret)
        self.assertNotIn("secret", provider.fields_get())
        with self.assertRaises(AccessError):
            provider.read(["secret"])
        with self.assertRaises(AccessError):
            self.env["call.tracking.provider"].search_read([], ["secret"])
        with self.assertRaises(AccessError):
            provider.web_read({"secret": {}})
        with self.assertRaises(AccessError):
            self.env["call.tracking.provider"].search([("secret", "=like", "s%")])
        provider.write({"secret_input": "a new secret, long enough"})
        provider.invalidate_recordset()  # as a later RPC read
        self.assertEqual(provider.read(["secret_input"])[0]["secret_input"], False, "write-only")
        self.assertEqual(provider.sudo().secret, "a new secret, long enough")

    @users("ct_settings_admin")
    def test_settings_admin_reads_provider_secrets(self):
        provider = self.provider.with_env(self.env)
        self.assertEqual(provider.read(["secret"])[0]["secret"], SECRET)

    @users("ct_admin")
    def test_call_tracking_admin_sets_but_never_reads_provider_secrets(self):
        """A Call Tracking administrator who is not a Settings administrator
        configures providers but cannot read their secret."""
        provider = self.provider.with_env(self.env)
        self.assertTrue(provider.has_secret)
        with self.assertRaises(AccessError):
            provider.read(["secret"])
        provider.write({"secret_input": "rotated-0123456789"})
        self.assertEqual(provider.sudo().secret, "rotated-0123456789")

    # ------------------------------------------------------------------
    # visitor sessions
    # ------------------------------------------------------------------

    @users("ct_salesman")
    def test_salesperson_reads_no_visitor_session(self):
        with self.assertRaises(AccessError):
            self.env["call.tracking.session"].search([])
        with self.assertRaises(AccessError):
            self.session.with_env(self.env).read(["landing_url"])
        with self.assertRaises(AccessError):
            self.pool_numbers[0].with_env(self.env).read(["lease_session_id"])
        with self.assertRaises(AccessError):
            self.channel_google.with_env(self.env).read(["session_count"])
        visitor = self.env["website.visitor"].sudo().create({"access_token": "a" * 32})
        with self.assertRaises(AccessError):
            visitor.with_env(self.env).read(["call_tracking_session_ids"])
        # their own call is readable; the session's name shown on it is not
        # the visitor's key (a bearer key for the number endpoint)
        [call] = self.call.with_env(self.env).web_read(
            {"session_id": {"fields": {"display_name": {}}}, "channel_id": {}}
        )
        self.assertEqual(call["channel_id"], self.channel_google.id)
        self.assertTrue(call["session_id"]["display_name"])
        self.assertNotIn(self.answer["visitor"], call["session_id"]["display_name"])

    @users("ct_manager")
    def test_manager_reads_sessions(self):
        session = self.env["call.tracking.session"].search(
            [("visitor_key", "=", self.answer["visitor"])]
        )
        self.assertEqual(session, self.session)
        self.assertEqual(session.number_id.number, POOL[0])
        self.assertEqual(self.pool_numbers[0].with_env(self.env).lease_session_id, session)
        self.assertIn("Google Ads", session.display_name)

    def test_public_user_assigns_numbers_without_sudo(self):
        """The controller calls the assignment as the public user: it works
        without any sudo, and leaves the public user unable to read what it
        wrote."""
        Session = self.env["call.tracking.session"].with_user(self.public)
        # the cached channel setup is built by this very call, as the public user
        self.env.registry.clear_cache()
        answer = Session._assign_number(self.company, url=GOOGLE_ADS_URL)
        self.assertEqual(answer["mode"], "dynamic")
        self.assertEqual(answer["number"], POOL[1])
        self.assertEqual(answer["display"], "(212) 555-0122", "the company is read in sudo")
        session = self.env["call.tracking.session"].search(
            [("visitor_key", "=", answer["visitor"])]
        )
        self.assertEqual(session.create_uid, self.public)
        with self.assertRaises(AccessError):
            session.with_user(self.public).read(["visitor_key"])
        # the same key from the public user again: the same lease
        again = Session._assign_number(
            self.company, url=GOOGLE_ADS_URL, visitor_key=answer["visitor"]
        )
        self.assertEqual((again["number"], again["visitor"]), (POOL[1], answer["visitor"]))

    # ------------------------------------------------------------------
    # every model: public, portal, other company
    # ------------------------------------------------------------------

    def test_public_and_portal_have_no_access_to_any_model(self):
        for user in (self.public, self.portal):
            for model in self.module_models:
                with self.subTest(user=user.login, model=model):
                    self.assertFalse(self.env[model].with_user(user).has_access("read"))
            with self.assertRaises(AccessError):
                self.env["website.visitor"].with_user(user).search([])

    def test_other_company_sees_nothing_of_the_first(self):
        checked = []
        for model in self.module_models:
            Model = self.env[model]
            if "company_id" not in Model._fields:
                continue
            with self.subTest(model=model):
                ids = Model.sudo().search([("company_id", "=", self.company.id)]).ids
                self.assertTrue(ids, f"the fixture has no {model} of the first company")
                other = Model.with_user(self.manager_2)
                self.assertFalse(other.search([("id", "in", ids)]))
                self.assertFalse(other.search_count([("company_id", "=", self.company.id)]))
                if Model._auto:
                    with self.assertRaises(AccessError):
                        other.browse(ids[:1]).read(["company_id"])
                checked.append(model)
        self.assertGreaterEqual(len(checked), 14, checked)
        # the first company's manager sees them all
        manager = self.manager
        self.assertEqual(
            self.call.with_user(manager).read(["provider_call_id"])[0]["id"], self.call.id
        )
