"""Calls are records like any other for Odoo's users and other addons:
created through ``create()`` and written through ``write()``, so automation
rules (``base_automation``), ``create()`` overrides and field defaults added
by other modules apply to the calls of provider webhooks, of the Test call
button and of reprocessed inbox entries.

``base_automation`` is not a dependency of the module: the test runner
installs it with the module (``scripts/devlib.py``, ``TEST_MODULES``)."""

from unittest.mock import patch

from odoo import Command, api
from odoo.tests import tagged

from .common import SECRET, CallTrackingCommon


@tagged("post_install", "-at_install")
class TestCallExtensibility(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.call_model = cls.env["ir.model"]._get("call.tracking.call")

    def setUp(self):
        super().setUp()
        self.assertIn(
            "base.automation",
            self.env,
            "base_automation must be installed with the module for these tests "
            "(scripts/run_tests.py installs devlib.TEST_MODULES)",
        )
        # a rule on creation sees the call's numbers and start already
        self._rule(
            "on_create",
            "[('caller_number', '!=', False), ('called_number', '!=', False),"
            " ('start_at', '!=', False)]",
        )
        self._rule("on_write")

    def _rule(self, trigger, domain="[]"):
        """An automation rule on calls (``domain``: its "apply on" filter)
        whose Python action leaves a trace per call it ran on (a contact
        named after the rule and the call), as a user's rule would notify
        someone or tag the call."""
        automation = self.env["base.automation"].create(
            {
                "name": f"CT {trigger}",
                "model_id": self.call_model.id,
                "trigger": trigger,
                "filter_domain": domain,
            }
        )
        action = self.env["ir.actions.server"].create(
            {
                "name": f"CT {trigger} action",
                "model_id": self.call_model.id,
                "base_automation_id": automation.id,
                "usage": "base_automation",
                "state": "code",
                "code": "for record in records:\n"
                f"    env['res.partner'].create({{'name': 'CT {trigger} '"
                " + record.provider_call_id})",
            }
        )
        automation.action_server_ids = [Command.set(action.ids)]

    def _fired(self, trigger, call_id):
        """How many times the rule of ``trigger`` ran on the call."""
        return self.env["res.partner"].search_count([("name", "=", f"CT {trigger} {call_id}")])

    def test_rules_fire_for_webhook_calls(self):
        status, _type, answer = self._receive_signed(self._event("call_start", call_id="auto-1"))
        self.assertEqual(status, 200, answer)
        self.assertEqual(self._fired("on_create", "auto-1"), 1)
        self.assertTrue(self._fired("on_write", "auto-1"), "the event's values are a write")
        before = self._fired("on_write", "auto-1")
        status, _type, answer = self._receive_signed(self._event("call_end", call_id="auto-1"))
        self.assertEqual(status, 200, answer)
        self.assertEqual(self._fired("on_create", "auto-1"), 1, "created once")
        self.assertGreater(self._fired("on_write", "auto-1"), before, "the end is a write")

    def test_rules_fire_for_test_calls(self):
        self.provider.action_test_call()
        call = self.env["call.tracking.call"].search([("is_test", "=", True)])
        self.assertEqual(len(call), 1)
        self.assertEqual(self._fired("on_create", call.provider_call_id), 1)
        self.assertTrue(self._fired("on_write", call.provider_call_id))

    def test_rules_fire_for_reprocessed_entries(self):
        """An entry refused for a wrong secret, reprocessed once the
        provider's secret is fixed: its call is created then."""
        self.provider.secret = "wrong-secret-0000"
        status, _type, _answer = self._receive_signed(self._event(call_id="auto-re"))
        self.assertEqual(status, 403)
        self.assertFalse(self._fired("on_create", "auto-re"))
        entry = self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", self.provider.id)], order="id desc", limit=1
        )
        self.assertEqual(entry.state, "rejected")
        self.provider.secret = SECRET
        entry.action_reprocess()
        self.assertEqual(entry.state, "processed")
        self.assertEqual(self._fired("on_create", "auto-re"), 1)
        self.assertTrue(self._fired("on_write", "auto-re"))

    def test_create_override_and_default_of_another_module(self):
        """A field another module adds (here a custom field, as Studio adds
        one) gets its default (``ir.default``) on a webhook call, and a
        ``create()`` override of another module sees the call created."""
        self.env["ir.model.fields"].create(
            {
                "name": "x_ct_label",
                "model_id": self.call_model.id,
                "field_description": "Label",
                "ttype": "char",
            }
        )
        self.env["ir.default"].set("call.tracking.call", "x_ct_label", "from another module")
        Call = type(self.env["call.tracking.call"])
        original = Call.create
        overridden = []

        def create(records, vals_list):
            calls = original(records, vals_list)
            overridden.extend(calls.mapped("provider_call_id"))
            return calls

        with patch.object(Call, "create", api.model_create_multi(create)):
            status, _type, answer = self._receive_signed(self._event(call_id="auto-default"))
        self.assertEqual(status, 200, answer)
        call = self.env["call.tracking.call"].search([("provider_call_id", "=", "auto-default")])
        self.assertEqual(call.x_ct_label, "from another module")
        self.assertEqual(overridden, ["auto-default"])

    def test_inbox_entry_created_through_create(self):
        """The inbox entry of a provider's request goes through ``create()``
        too (its defaults and overrides apply)."""
        Event = type(self.env["call.tracking.webhook.event"])
        original = Event.create
        created = []

        def create(records, vals_list):
            entries = original(records, vals_list)
            created.extend(entries.mapped("state"))
            return entries

        with patch.object(Event, "create", api.model_create_multi(create)):
            self._receive_signed(self._event(call_id="auto-inbox"))
        self.assertEqual(created, ["processed"])
