"""Every public method of the addon is an RPC endpoint: it refuses, over
``/web/dataset/call_kw``, a portal user and a Call Tracking administrator of
another company, before it does anything (issue 25, finding 2).

:data:`PUBLIC_METHODS` lists every public method the addon defines, on its
own models and on the models it extends; the test enumerates them from the
registry (the methods of the addon's classes that Odoo's RPC accepts) and
fails on a method missing from the list, so a new public method gets a row
here, with the record it acts on.

Each row is ``(target, args[, OWN_COMPANY])``: ``target`` names a record of
the first company in the fixture (``None``: a model method, called without
records), ``args(case)`` gives the one positional argument after the ids (or
``None``: none). Every call must end in an ``AccessError`` and leave the
first company's records as they were, except the model methods marked
:data:`OWN_COMPANY`, which a user of another company may run for their own
company (still without changing the first company's records).
"""

import json
from datetime import datetime

from odoo.exceptions import AccessError
from odoo.service.model import get_public_method
from odoo.tests import tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import BILLBOARD, CallTrackingHttpCommon
from .conversion_standin import StandIn
from .test_conversions import LoopbackMixin

# a model method a user of another company may run on their own company
OWN_COMPANY = "own company"

PUBLIC_METHODS = {
    # call.tracking.blocked.number
    ("call.tracking.blocked.number", "create"): (
        None,
        lambda c: [{"number": "+380509998800", "company_id": c.company.id}],
    ),
    ("call.tracking.blocked.number", "write"): ("blocked_number", lambda c: {"note": "x"}),
    # call.tracking.call
    ("call.tracking.call", "action_open_lead"): ("call", None),
    ("call.tracking.call", "action_mark_not_spam"): ("spam_call", None),
    ("call.tracking.call", "action_block_caller"): ("call", None),
    ("call.tracking.call", "action_open_test_call"): ("call", None),
    ("call.tracking.call", "action_delete_test_calls"): (None, None, OWN_COMPANY),
    ("call.tracking.call", "write"): ("call", lambda c: {"is_spam": True}),
    ("call.tracking.call", "unlink"): ("call", None),
    ("call.tracking.call", "action_fetch_recording"): ("call", None),
    ("call.tracking.call", "action_score"): ("call", None),
    ("call.tracking.call", "action_score_done"): ("call", None),
    ("call.tracking.call", "action_score_reset"): ("call", None),
    ("call.tracking.call", "action_transcribe_again"): ("call", None),
    # call.tracking.call.report: the roll-up's freshness, read-only (a user
    # of another company reads their own company's)
    ("call.tracking.call.report", "get_rollup_freshness"): (None, None, OWN_COMPANY),
    # call.tracking.audience
    ("call.tracking.audience", "action_sync"): ("audience", None),
    # call.tracking.scorecard
    ("call.tracking.scorecard", "action_done"): ("scorecard", None),
    ("call.tracking.scorecard", "action_reset"): ("scorecard", None),
    # call.tracking.staffing: remakes the advice of the user's own companies
    ("call.tracking.staffing", "action_refresh"): (None, None, OWN_COMPANY),
    # call.tracking.tag
    ("call.tracking.tag", "action_open_calls"): ("tag", None),
    # call.tracking.channel
    ("call.tracking.channel", "create"): (
        None,
        lambda c: [{"name": "Injected", "company_id": c.company.id}],
    ),
    ("call.tracking.channel", "write"): ("channel_google", lambda c: {"name": "x"}),
    ("call.tracking.channel", "unlink"): ("channel_google", None),
    ("call.tracking.channel", "action_view_sessions"): ("channel_google", None),
    # call.tracking.channel.rule
    ("call.tracking.channel.rule", "create"): (
        None,
        lambda c: [{"channel_id": c.channel_google.id, "utm_source": "injected"}],
    ),
    ("call.tracking.channel.rule", "write"): ("channel_rule", lambda c: {"utm_source": "x"}),
    ("call.tracking.channel.rule", "unlink"): ("channel_rule", None),
    # call.tracking.conversion
    ("call.tracking.conversion", "action_retry"): ("conversion", None),
    ("call.tracking.conversion", "action_skip"): ("conversion", None),
    # call.tracking.destination
    ("call.tracking.destination", "create"): (
        None,
        lambda c: [
            {
                "name": "Injected",
                "kind": "ga4",
                "account_ref": "G-INJECT12",
                "company_id": c.company.id,
            }
        ],
    ),
    ("call.tracking.destination", "write"): ("destination", lambda c: {"name": "x"}),
    ("call.tracking.destination", "unlink"): ("destination", None),
    ("call.tracking.destination", "action_send_test_event"): ("destination", None),
    ("call.tracking.destination", "action_view_conversions"): ("destination", None),
    ("call.tracking.destination", "action_download_google_ads_csv"): ("destination", None),
    # call.tracking.number
    ("call.tracking.number", "create"): (
        None,
        lambda c: [{"number": "+12125550177", "company_id": c.company.id}],
    ),
    ("call.tracking.number", "write"): ("number", lambda c: {"name": "x"}),
    ("call.tracking.number", "unlink"): ("number_seo", None),
    ("call.tracking.number", "action_test_call"): ("number", None),
    # call.tracking.pool
    ("call.tracking.pool", "create"): (
        None,
        lambda c: [{"name": "Injected", "company_id": c.company.id}],
    ),
    ("call.tracking.pool", "write"): ("pool", lambda c: {"name": "x"}),
    ("call.tracking.pool", "unlink"): ("pool", None),
    ("call.tracking.pool", "action_view_numbers"): ("pool", None),
    ("call.tracking.pool", "action_view_live_sessions"): ("pool", None),
    ("call.tracking.pool", "action_view_health"): ("pool", None),
    # call.tracking.provider
    ("call.tracking.provider", "action_regenerate_token"): ("provider", None),
    ("call.tracking.provider", "action_test_call"): ("provider", None),
    ("call.tracking.provider", "action_view_calls"): ("provider", None),
    ("call.tracking.provider", "action_view_webhook_events"): ("provider", None),
    ("call.tracking.provider", "action_reconcile_now"): ("provider", None),
    # call.tracking.setup (the first company's checklist)
    ("call.tracking.setup", "action_open_checklist"): (None, None, OWN_COMPANY),
    ("call.tracking.setup", "action_use_company_phone"): ("setup", None),
    ("call.tracking.setup", "action_open_settings"): ("setup", None),
    ("call.tracking.setup", "action_open_numbers"): ("setup", None),
    ("call.tracking.setup", "action_open_pools"): ("setup", None),
    ("call.tracking.setup", "action_open_channels"): ("setup", None),
    ("call.tracking.setup", "action_open_providers"): ("setup", None),
    ("call.tracking.setup", "action_open_calls"): ("setup", None),
    ("call.tracking.setup", "action_test_call"): ("setup", None),
    # call.tracking.webhook.event
    ("call.tracking.webhook.event", "action_reprocess"): ("webhook_event", None),
    # crm.lead
    ("crm.lead", "write"): ("lead", lambda c: {"name": "x"}),
    ("crm.lead", "unlink"): ("lead", None),
    ("crm.lead", "action_view_calls"): ("lead", None),
    ("crm.lead", "action_call_targeted"): ("lead", None),
    ("crm.lead", "action_call_untargeted"): ("lead", None),
    # mail.mail: a user may queue mail of their own company
    ("mail.mail", "create"): (None, lambda c: [{"subject": "x"}], OWN_COMPANY),
    # res.company
    ("res.company", "create"): (None, lambda c: [{"name": "Injected company"}]),
    ("res.company", "write"): ("company", lambda c: {"name": "x"}),
    ("res.company", "unlink"): ("company_2_spare", None),
    # res.config.settings (the first company's settings)
    ("res.config.settings", "action_call_tracking_use_company_phone"): ("settings", None),
    ("res.config.settings", "set_values"): ("settings", None),
    # res.partner
    # website
    ("website", "create"): (
        None,
        lambda c: [{"name": "Injected", "company_id": c.company.id}],
    ),
    ("website", "write"): ("website", lambda c: {"name": "x"}),
    ("website", "unlink"): ("website", None),
}

# the first company's records whose state must not change; {model: domain}
WATCHED = {
    "call.tracking.call": [],
    "call.tracking.audience": [],
    "call.tracking.tag": [],
    "call.tracking.blocked.number": [],
    "call.tracking.channel": [],
    "call.tracking.channel.rule": [],
    "call.tracking.number": [],
    "call.tracking.pool": [],
    "call.tracking.provider": [],
    "call.tracking.destination": [],
    "call.tracking.conversion": [],
    "call.tracking.webhook.event": [],
    "crm.lead": [],
}


def addon_public_methods(env):
    """``{(model, method)}``: the methods the addon's classes define that
    Odoo's RPC accepts, for every model of the registry (the addon's own and
    the ones it extends; abstract mixins through the models using them)."""
    found = set()
    for name in env.registry:
        model = env[name]
        if model._abstract:
            continue
        for klass in type(model).mro():
            if not klass.__module__.startswith("odoo.addons.call_tracking."):
                continue
            for attr, value in vars(klass).items():
                if not attr.startswith("_") and callable(value) and _rpc_accepts(model, attr):
                    found.add((name, attr))
    return found


def _rpc_accepts(model, name):
    """Odoo's RPC (``/web/dataset/call_kw``) would call ``name``."""
    try:
        get_public_method(model, name)
    except AccessError:
        return False
    return True


@tagged("post_install", "-at_install")
class TestPublicMethods(LoopbackMixin, CallTrackingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.standin = StandIn()
        cls.addClassCleanup(cls.standin.stop)
        env["ir.config_parameter"].sudo().set_param(
            "call_tracking.outbound_allowed_networks", "127.0.0.0/8"
        )
        cls.intruder = mail_new_test_user(
            env,
            login="ct_admin_other",
            groups="base.group_user,call_tracking.call_tracking_group_manager",
            name="Ivan Intruder",
            company_id=cls.company_2.id,
            company_ids=[cls.company_2.id],
        )
        cls.destination = env["call.tracking.destination"].create(
            {
                "name": "Public methods GA4",
                "kind": "ga4",
                "trigger": "call",
                "account_ref": "G-PUBLIC12",
                "secret_input": "public-secret-1",
                "endpoint_url": f"{cls.standin.url}/mp/collect",
            }
        )
        # an attributed call (billboard's static number) with its lead, its
        # conversion and its inbox entry; a spam call of a blocked caller
        start = datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        for call_id, caller in (("pub-1", "+12125550178"), ("pub-spam", "+380509998877")):
            payload = {
                "event": "call_end",
                "call_id": call_id,
                "from": caller,
                "to": BILLBOARD,
                "start": start,
                "duration": 60,
                "talk_duration": 50,
                "status": "answered",
            }
            status, _type, body = cls._receive_signed(payload)
            assert status == 200, body
        Call = env["call.tracking.call"]
        cls.call = Call.search([("provider_call_id", "=", "pub-1")])
        cls.spam_call = Call.search([("provider_call_id", "=", "pub-spam")])
        assert cls.spam_call.is_spam and not cls.spam_call.lead_id
        cls.lead = cls.call.lead_id
        cls.conversion = env["call.tracking.conversion"].search(
            [("call_id", "=", cls.call.id)], limit=1
        ) or env["call.tracking.conversion"].create(
            {
                "call_id": cls.call.id,
                "destination_id": cls.destination.id,
                "company_id": cls.company.id,
                "trigger": "call",
                "state": "failed",
            }
        )
        cls.webhook_event = env["call.tracking.webhook.event"].search(
            [("provider_id", "=", cls.provider.id)], limit=1
        )
        cls.audience = env["call.tracking.audience"].create(
            {"name": "Public methods audience", "company_id": cls.company.id}
        )
        cls.tag = env["call.tracking.tag"].create(
            {"name": "Public methods tag", "company_id": cls.company.id}
        )
        env["call.tracking.scorecard"]._create_for_calls(cls.call)
        cls.scorecard = cls.call.scorecard_id
        cls.setup_record = env["call.tracking.setup"].create({})
        cls.settings = env["res.config.settings"].create({})
        cls.partner = env["res.partner"].create(
            {"name": "First company contact", "company_id": cls.company.id}
        )
        cls.company_2_spare = env["res.company"].create({"name": "Spare company"})
        cls.website = env["website"].search([("company_id", "=", cls.company.id)], limit=1)
        env["ir.config_parameter"].sudo().set_param("web.base.url", cls.base_url())
        assert all((cls.call, cls.lead, cls.conversion, cls.webhook_event, cls.website)), (
            "fixture incomplete"
        )

    def _target(self, name):
        return {
            "setup": self.setup_record,
            "channel_rule": self.channel_google.rule_ids[:1],
        }.get(name) or getattr(self, name)

    def _snapshot(self):
        """The first company's watched records: ids and last write."""
        snapshot = {}
        for model, domain in WATCHED.items():
            records = (
                self.env[model]
                .sudo()
                .with_context(active_test=False)
                .search([*domain, ("company_id", "=", self.company.id)])
            )
            snapshot[model] = sorted(records.mapped(lambda r: (r.id, str(r.write_date))))
        snapshot["spam"] = (self.spam_call.is_spam, self.spam_call.lead_id.id)
        snapshot["company"] = (self.company.name, self.company.call_tracking_default_number)
        return snapshot

    def _call_kw(self, model, method, ids, args, company):
        params = {
            "model": model,
            "method": method,
            "args": [ids, *args] if ids is not None else list(args),
            "kwargs": {"context": {"allowed_company_ids": [company.id]}},
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.env.invalidate_all()
        return response.json()

    def test_every_public_method_is_listed(self):
        found = addon_public_methods(self.env)
        self.assertFalse(
            sorted(found - set(PUBLIC_METHODS)),
            "public methods of the addon missing from PUBLIC_METHODS "
            "(add each with the record it acts on)",
        )
        self.assertFalse(
            sorted(set(PUBLIC_METHODS) - found),
            "PUBLIC_METHODS lists methods that are no longer public",
        )

    def test_every_public_method_refuses_portal_and_other_company(self):
        failures = []
        for user, company in ((self.portal, self.company), (self.intruder, self.company_2)):
            self.authenticate(user.login, user.login)
            for (model, method), (target, args, *flags) in sorted(PUBLIC_METHODS.items()):
                ids = self._target(target).ids if target else None
                own_company = OWN_COMPANY in flags
                values = args(self) if callable(args) else None
                arguments = [] if values is None else [values]
                before = self._snapshot()
                answer = self._call_kw(model, method, ids, arguments, company)
                error = (answer.get("error") or {}).get("data", {}).get("name")
                changed = before != self._snapshot()
                refused = error == "odoo.exceptions.AccessError"
                allowed_here = own_company and user == self.intruder and not error
                if changed or not (refused or allowed_here):
                    failures.append(
                        f"{user.login}: {model}.{method} -> "
                        f"{error or str(answer.get('result'))[:60]!r}"
                        + (" and changed the first company's records" if changed else "")
                    )
        self.assertFalse(failures, "public methods not refused:\n" + "\n".join(failures))

    def test_portal_cannot_mark_not_spam(self):
        self.authenticate(self.portal.login, self.portal.login)
        answer = self._call_kw(
            "call.tracking.call", "action_mark_not_spam", self.spam_call.ids, [], self.company
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertTrue(self.spam_call.is_spam)
        self.assertFalse(self.spam_call.lead_id)

    def test_send_test_event_sends_nothing_before_the_check(self):
        self.standin.requests.clear()
        self.authenticate(self.intruder.login, self.intruder.login)
        answer = self._call_kw(
            "call.tracking.destination",
            "action_send_test_event",
            self.destination.ids,
            [],
            self.company_2,
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertFalse(self.standin.requests, "the request with the stored credential was sent")
        # the first company's administrator sends it
        self.destination.with_user(self.ct_admin).action_send_test_event()
        self.assertEqual(len(self.standin.requests), 1)

    def test_listed_targets_exist(self):
        for target, *_args in PUBLIC_METHODS.values():
            if target:
                self.assertTrue(self._target(target), target)
