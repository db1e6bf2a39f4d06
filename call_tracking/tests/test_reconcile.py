"""Reconciliation: the calls whose webhook never arrived are fetched from
the provider's call history (loopback stand-ins of Binotel's, Twilio's and
Zadarma's APIs and of the generic pull contract) and recorded once, each
with its lead, through the inbox."""

import random
import uuid
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SECRET, SEO, CallTrackingCommon, receive_webhook
from .telephony_standin import BinotelApi, GenericPull, LoopbackMixin, TwilioApi, ZadarmaApi

KEY = "api-key-0123"
TOKEN = "api-secret-4567-89ab"
TWILIO_SID = "AC" + "1" * 32
CALLS = 25

# answers of any shape (and no answer at all)
GARBAGE = (
    (200, b"not json"),
    (200, b"null"),
    (200, b"[]"),
    (200, b'{"status": "success", "callDetails": "x", "calls": "x", "stats": "x", "events": "x"}'),
    (
        200,
        (
            b'{"status": "success", "callDetails": {"1": [1, 2], "2": {"generalCallID": {"a": 1}}},'
            b' "calls": [1, "x", {"sid": 5, "direction": "inbound", "status": "completed"}],'
            b' "stats": [null, {"pbx_call_id": {"a": 1}}], "events": [{"event": "call_end"}, 7],'
            b' "next_page_uri": 5, "next_cursor": {"a": 1}}'
        ),
    ),
    (500, b"<html>boom</html>"),
    (404, b""),
    (200, b"[" * 3000 + b"]" * 3000),
    (200, b'{"status": "error", "message": "Wrong key"}'),
)


class ReconcileCase(LoopbackMixin, CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._allow_loopback(cls.env)
        Provider = cls.env["call.tracking.provider"]
        cls.apis = {
            "binotel": BinotelApi(KEY, TOKEN),
            "twilio": TwilioApi(TWILIO_SID, TOKEN),
            "zadarma": ZadarmaApi(KEY, TOKEN),
            "generic": GenericPull(SECRET),
        }
        for api in cls.apis.values():
            cls.addClassCleanup(api.stop)
        base = {"team_id": cls.team.id, "secret": TOKEN}
        cls.providers = {
            "binotel": Provider.create(
                {
                    **base,
                    "name": "Binotel",
                    "kind": "binotel",
                    "api_key": KEY,
                    "api_base_url": cls.apis["binotel"].url + "/api/4.0/",
                }
            ),
            "twilio": Provider.create(
                {
                    **base,
                    "name": "Twilio",
                    "kind": "twilio",
                    "api_key": TWILIO_SID,
                    "api_base_url": cls.apis["twilio"].url,
                }
            ),
            "zadarma": Provider.create(
                {
                    **base,
                    "name": "Zadarma",
                    "kind": "zadarma",
                    "api_key": KEY,
                    "api_base_url": cls.apis["zadarma"].url,
                }
            ),
            "generic": Provider.create(
                {
                    **base,
                    "name": "PBX",
                    "kind": "generic",
                    "secret": SECRET,
                    "reconcile_url": cls.apis["generic"].url + "/history",
                }
            ),
        }

    def setUp(self):
        super().setUp()
        for api in self.apis.values():
            api.reset()
        self.now = fields.Datetime.now().replace(microsecond=0)

    # ------------------------------------------------------------------
    # a call as each API lists it, and as each provider's webhook posts it
    # ------------------------------------------------------------------

    def _add_call(self, kind, index, start, caller, called=SEO):
        hex_id = uuid.uuid4().hex
        api = self.apis[kind]
        if kind == "binotel":
            call_id = str(900000 + index)
            api.calls.append(api.details(call_id, start, caller, called, billsec=60))
        elif kind == "twilio":
            call_id = "CA" + hex_id
            api.calls.append(api.call(call_id, start, caller, called, duration=60))
        elif kind == "zadarma":
            call_id = "in_" + hex_id
            api.calls.append(api.row(call_id, start, caller, called, seconds=60))
        else:
            call_id = "pbx-" + hex_id
            api.calls.append(
                {
                    "event": "call_end",
                    "call_id": call_id,
                    "from": caller,
                    "to": called,
                    "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "duration": 60,
                    "talk_duration": 60,
                    "status": "answered",
                }
            )
        return call_id

    def _deliver(self, kind, call_id, start, caller, called=SEO):
        """The provider's webhook of the finished call, through the webhook
        controller's handling (verification included)."""
        provider_sudo = self.providers[kind].sudo()
        request_data = provider_sudo._build_test_request(
            {
                "call_id": call_id.removeprefix("CA"),
                "from": caller,
                "to": called,
                "start": start,
                "end": start + timedelta(seconds=60),
                "duration": 60,
            }
        )
        status, _ct, body = receive_webhook(provider_sudo, request_data)
        self.assertEqual(status, 200, body)

    def _calls(self, provider=None):
        return self.env["call.tracking.call"].search([("provider_id", "=", provider.id)])


@tagged("post_install", "-at_install")
class TestReconcile(ReconcileCase):
    def _drop_and_reconcile(self, kind):
        provider = self.providers[kind]
        rng = random.Random(f"drop-{kind}")
        ids, dropped = [], []
        for index in range(CALLS):
            start = self.now - timedelta(minutes=5 + 9 * index)
            caller = f"+38050{3000000 + index * 7:07d}"
            call_id = self._add_call(kind, index, start, caller)
            ids.append(call_id)
            if rng.random() < 0.2:
                dropped.append(call_id)
            else:
                self._deliver(kind, call_id, start, caller)
        self.assertTrue(dropped, "some webhooks were lost")
        self.assertEqual(len(self._calls(provider)), CALLS - len(dropped))

        found, recovered = provider.sudo()._reconcile_run(now=self.now)

        calls = self._calls(provider)
        self.assertEqual(sorted(calls.mapped("provider_call_id")), sorted(ids), "each call once")
        self.assertTrue(all(calls.mapped("lead_id")), "each call with its lead")
        self.assertEqual(set(calls.mapped("status")), {"answered"})
        self.assertEqual((found, recovered), (CALLS, len(dropped)))
        self.assertEqual(provider.reconcile_last_found, CALLS)
        self.assertEqual(provider.reconcile_last_recovered, len(dropped))
        self.assertFalse(provider.reconcile_last_error)
        api_entries = self.env["call.tracking.webhook.event"].search(
            [("provider_id", "=", provider.id), ("source", "=", "api")]
        )
        self.assertEqual(sorted(api_entries.mapped("provider_call_id")), sorted(dropped))
        self.assertEqual(set(api_entries.mapped("state")), {"processed"})
        # a second run finds the same calls and records nothing more
        self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (CALLS, 0))
        self.assertEqual(len(self._calls(provider)), CALLS)
        # a stored API entry processed again changes nothing
        api_entries.action_reprocess()
        self.assertEqual(len(self._calls(provider)), CALLS)
        self.assertEqual(set(api_entries.mapped("state")), {"processed"})

    def test_binotel_drop_20_percent(self):
        self._drop_and_reconcile("binotel")

    def test_twilio_drop_20_percent(self):
        self._drop_and_reconcile("twilio")
        # Twilio's list was read page by page
        self.assertGreater(len(self.apis["twilio"].requests), 0)

    def test_zadarma_drop_20_percent(self):
        self._drop_and_reconcile("zadarma")

    def test_generic_drop_20_percent(self):
        self._drop_and_reconcile("generic")
        pages = [r["query"].get("cursor") for r in self.apis["generic"].requests]
        self.assertGreater(len(pages), 3, "paged")

    def test_paging(self):
        """Twilio's next_page_uri is followed; Zadarma's skip goes on while
        a page is full."""
        api = self.apis["twilio"]
        for index in range(450):
            self._add_call(
                "twilio",
                index,
                self.now - timedelta(minutes=1 + index % 600),
                f"+38050{4000000 + index:07d}",
            )
        events = (
            self.providers["twilio"]
            .sudo()
            ._reconcile_fetch(self.now - timedelta(hours=24), self.now)
        )
        self.assertEqual(len(events), 450)
        self.assertEqual(len(api.requests), 3, "pages of 200")
        self.assertEqual(api.requests[1]["query"]["PageToken"], "PA1")

    def test_an_ended_call_completes_the_open_one(self):
        """A call Odoo has without its end (the end's webhook was lost) is
        completed from the history, the other calls are left alone."""
        provider = self.providers["generic"]
        start = self.now - timedelta(minutes=30)
        call_id = self._add_call("generic", 0, start, "+380501234000")
        self._receive_signed(
            {
                "event": "call_start",
                "call_id": call_id,
                "from": "+380501234000",
                "to": SEO,
                "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            provider=provider,
        )
        call = self._calls(provider)
        self.assertEqual(call.status, "in_progress")
        self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (1, 1))
        self.assertEqual(call.status, "answered")
        self.assertEqual(call.talk_duration, 60)

    def test_api_down_loses_nothing(self):
        """A provider whose API is down: the failure is recorded on it,
        nothing is lost, the next run recovers the calls."""
        for kind, provider in self.providers.items():
            with self.subTest(kind=kind):
                start = self.now - timedelta(minutes=20)
                call_id = self._add_call(kind, 1, start, "+380507770001")
                self.apis[kind].down = True
                self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (0, 0))
                self.assertTrue(provider.reconcile_last_error)
                self.assertEqual(provider.reconcile_last_run, self.now)
                self.assertFalse(self._calls(provider))
                self.apis[kind].down = False
                self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (1, 1))
                self.assertFalse(provider.reconcile_last_error)
                self.assertEqual(self._calls(provider).provider_call_id, call_id)

    def test_slow_api_delays_and_loses_nothing(self):
        """An API slower than the guard's timeout: the run fails with the
        reason recorded, the next one (the API fast again) recovers."""
        Provider = type(self.env["call.tracking.provider"])
        for kind, provider in self.providers.items():
            with self.subTest(kind=kind):
                self._add_call(kind, 5, self.now - timedelta(minutes=8), "+380507770005")
                self.apis[kind].delay = 1.5
                with patch.object(Provider, "_reconcile_timeout", lambda self: 0.5):
                    self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (0, 0))
                self.assertIn("127.0.0.1", provider.reconcile_last_error)
                self.assertFalse(self._calls(provider))
                self.apis[kind].delay = 0
                self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (1, 1))

    def test_answers_of_any_shape_never_crash(self):
        for kind, provider in self.providers.items():
            for status, body in GARBAGE:
                with self.subTest(kind=kind, status=status, body=body[:40]):
                    self.apis[kind].override = (status, body)
                    found, recovered = provider.sudo()._reconcile_run(now=self.now)
                    self.assertEqual(recovered, 0)
                    self.assertTrue(provider.reconcile_last_error or found == 0)
            self.assertFalse(self._calls(provider))
        self.assertNotIn(
            TOKEN, " ".join(p.reconcile_last_error or "" for p in self.providers.values())
        )

    def test_cron_and_switch(self):
        """The cron reconciles every due provider that has it on, one per
        step; a provider switched off is left alone."""
        self.providers["zadarma"].reconcile_enabled = False
        for kind in ("binotel", "twilio", "zadarma", "generic"):
            self._add_call(kind, 2, self.now - timedelta(minutes=15), "+380508880002")
        Provider = self.env["call.tracking.provider"]
        steps = 0
        while Provider._cron_reconcile():
            steps += 1
            self.assertLess(steps, 10)
        for kind in ("binotel", "twilio", "generic"):
            self.assertEqual(len(self._calls(self.providers[kind])), 1, kind)
            self.assertEqual(self.providers[kind].reconcile_last_recovered, 1)
        self.assertFalse(self._calls(self.providers["zadarma"]))
        self.assertFalse(self.providers["zadarma"].reconcile_last_run)
        # not due again right away
        self.assertEqual(Provider._cron_reconcile(), 0)

    def test_checking_known_calls_is_batched(self):
        """Checking calls Odoo already has costs the same queries for 5 or
        for 40 of them (one read of the known calls, no query per call)."""
        provider = self.providers["generic"].sudo()

        def queries_for(count, offset):
            for index in range(count):
                start = self.now - timedelta(minutes=3 + index)
                call_id = self._add_call(
                    "generic", offset + index, start, f"+38050{6000000 + offset + index:07d}"
                )
                self._receive_signed(self.apis["generic"].calls[-1], provider=provider)
                self.assertTrue(call_id)
            provider._reconcile_run(now=self.now)  # warm-up
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.assertEqual(provider._reconcile_run(now=self.now)[1], 0)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        few = queries_for(5, 0)
        many = queries_for(35, 100)
        self.assertEqual(few, many)

    def test_window(self):
        provider = self.providers["generic"]
        provider.reconcile_window_hours = 2
        self._add_call("generic", 3, self.now - timedelta(hours=3), "+380508880003")
        self._add_call("generic", 4, self.now - timedelta(hours=1), "+380508880004")
        self.assertEqual(provider.sudo()._reconcile_run(now=self.now), (1, 1))

    def test_tampered_api_entry_not_processed(self):
        provider = self.providers["generic"]
        Event = self.env["call.tracking.webhook.event"]
        request_data = Event._api_request_data(
            provider,
            [
                {
                    "event": "call_end",
                    "call_id": "x-1",
                    "from": "+380501111111",
                    "to": SEO,
                    "status": "answered",
                    "duration": 5,
                }
            ],
        )
        request_data["body"] = request_data["body"].replace(b"x-1", b"x-2")
        values = Event._prepare_request_values(provider, request_data)
        _events, outcome, error = Event._run_processing(provider, request_data)
        self.assertTrue(error)
        self.assertEqual(outcome["state"], "rejected")
        self.assertTrue(values)

    def test_credentials_for_settings_admins_only(self):
        provider = self.providers["twilio"].with_user(self.ct_admin)
        self.assertTrue(provider.has_api_key)
        with self.assertRaises(AccessError):
            provider.read(["api_key"])
        provider.api_key_input = "AC" + "2" * 32
        self.assertEqual(self.providers["twilio"].api_key, "AC" + "2" * 32)
        self.assertEqual(
            self.providers["twilio"].with_user(self.settings_admin).api_key, "AC" + "2" * 32
        )
