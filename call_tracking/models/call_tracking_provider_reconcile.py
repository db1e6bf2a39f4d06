"""Reconciliation: the provider's call history as the second source of truth.

A webhook is the fast path. For every kind with a call-history API, a cron
fetches the calls of the last hours (:meth:`_reconcile_fetch`, extended by
each kind guarded by its kind) and processes those Odoo does not have, or
has without their end, through the same inbox (entries of source "Provider
API") and the same idempotency by provider call id. A slow or unreachable
API delays the reconciliation and loses nothing: the failure is recorded
on the provider and the next run fetches the same window again.
"""

import json
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..tools import outbound
from .call_tracking_call import EVENT_TYPES, FINAL_STATUSES

_logger = logging.getLogger(__name__)

# a provider is reconciled again at most this often by the cron
RECONCILE_MIN_INTERVAL = timedelta(minutes=10)
MAX_WINDOW_HOURS = 24 * 7  # the CHECK constraint below
RECONCILE_TIMEOUT = 10
# pages fetched per run at most (a safety net against a paging loop)
MAX_PAGES = 200


class ReconcileUnsupported(Exception):
    """The provider's kind (or its configuration) offers no call history."""


class ReconcileError(Exception):
    """The call history could not be read; ``message`` is safe to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    # Readable by Settings administrators only, like the signing secret;
    # call tracking managers set it through the write-only api_key_input.
    api_key = fields.Char(
        string="API Key",
        copy=False,
        groups="base.group_system",
        help="Binotel: the API key (its secret is the signing secret). Zadarma: the API "
        "key (user key). Twilio: the Account SID.",
    )
    api_key_input = fields.Char(
        string="New API Key",
        compute="_compute_api_key_input",
        inverse="_inverse_api_key_input",
        groups="call_tracking.call_tracking_group_manager",
        help="Write-only: sets the API key, which is never shown again.",
    )
    has_api_key = fields.Boolean(
        string="API Key Set",
        compute="_compute_has_api_key",
        groups="call_tracking.call_tracking_group_manager",
    )
    api_base_url = fields.Char(
        string="API Base URL",
        tracking=True,
        help="The provider's API, for the reconciliation, Binotel's call confirmation and "
        "the Twilio and Zadarma recordings (not where recording files are downloaded "
        "from: see Recording Download URL). Leave empty for the provider's own API; set "
        "only for a regional endpoint or a compatible service.",
    )
    reconcile_enabled = fields.Boolean(
        string="Reconcile Calls",
        default=True,
        tracking=True,
        help="Fetch the recent calls from the provider's call history and record those "
        "whose webhook never arrived.",
    )
    reconcile_window_hours = fields.Integer(
        string="Reconciliation Window (hours)",
        default=24,
        help="How far back each reconciliation looks.",
    )
    reconcile_url = fields.Char(
        string="Call History URL",
        tracking=True,
        help="Generic kind: the URL of the PBX's call history, returning the same JSON "
        "events as the webhook (see the reconciliation documentation).",
    )
    reconcile_last_run = fields.Datetime(string="Last Reconciliation", readonly=True)
    reconcile_last_success = fields.Datetime(string="Last Successful Reconciliation", readonly=True)
    reconcile_last_found = fields.Integer(
        string="Calls Found", readonly=True, help="Calls in the provider's history at the last run."
    )
    reconcile_last_recovered = fields.Integer(
        string="Calls Recovered",
        readonly=True,
        help="Calls the last run recorded or completed because their webhook never arrived.",
    )
    reconcile_last_error = fields.Text(string="Reconciliation Error", readonly=True)

    _sql_constraints = [
        (
            "reconcile_window_hours_range",
            "CHECK(reconcile_window_hours IS NULL OR reconcile_window_hours BETWEEN 1 AND 168)",
            "The reconciliation window must be between one hour and a week.",
        ),
    ]

    def _compute_api_key_input(self):
        self.api_key_input = False

    def _inverse_api_key_input(self):
        for provider in self.filtered("api_key_input"):
            # narrow sudo: the caller may write the provider (checked by
            # write()), the key itself is for Settings administrators only
            provider.sudo().api_key = provider.api_key_input.strip()

    def _compute_has_api_key(self):
        for provider, provider_sudo in zip(self, self.sudo(), strict=True):
            provider.has_api_key = bool(provider_sudo.api_key)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_reconcile_now(self):
        """Run the reconciliation of this provider now."""
        self.ensure_one()
        self.check_access("write")
        provider_sudo = self.sudo()
        if not provider_sudo._reconcile_run():
            raise UserError(
                self.env._(
                    "The provider %s has no call history to reconcile with: set its API key "
                    "(or, for the generic kind, its call history URL) first.",
                    self.display_name,
                )
            )
        if provider_sudo.reconcile_last_error:
            message = self.env._("Reconciliation failed: %s", provider_sudo.reconcile_last_error)
            kind = "warning"
        else:
            message = self.env._(
                "Reconciliation done. Calls found: %(found)s. Calls recovered: %(recovered)s.",
                found=provider_sudo.reconcile_last_found,
                recovered=provider_sudo.reconcile_last_recovered,
            )
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _get_api_default_base_url(self):
        """The official API of the kind (hook); None: none."""
        return

    def _get_api_base_url(self):
        """The provider's API base URL, without a trailing slash: its API
        Base URL, else the kind's official API ("" when the kind has none)."""
        self.ensure_one()
        return (self.api_base_url or self._get_api_default_base_url() or "").rstrip("/")

    # ------------------------------------------------------------------
    # The hook each kind with a call history extends
    # ------------------------------------------------------------------

    def _reconcile_fetch(self, since, until):
        """The normalised events (as :meth:`_parse_webhook_events` returns
        them) of the calls that started between ``since`` and ``until``
        (naive UTC datetimes), every page fetched. Each kind with a
        call-history API extends it for its own records; raise
        ``outbound.OutboundError`` when the API cannot be reached and
        ``ReconcileError`` when its answer cannot be read."""
        self.ensure_one()
        raise ReconcileUnsupported(self.kind)

    def _reconcile_get_credentials(self):
        """``(api key, secret)``. Without an API key the provider is not
        set up for its API (ReconcileUnsupported: skipped quietly); with a
        key but no secret, ReconcileError."""
        self.ensure_one()
        if not self.api_key:
            raise ReconcileUnsupported(self.kind)
        if not self.secret:
            raise ReconcileError(
                self.env._("The API key and the secret of the provider are both needed.")
            )
        return self.api_key, self.secret

    def _reconcile_timeout(self):
        """Seconds to wait for each answer of the provider's API: a slow
        API fails the run (recorded) rather than holding the cron."""
        return RECONCILE_TIMEOUT

    def _reconcile_json(self, response):
        """The JSON of an API's answer, or ReconcileError (whatever its
        shape: not JSON, nested too deeply)."""
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise ReconcileError(
                self.env._("The provider's API answered something else than JSON.")
            ) from exc

    # ------------------------------------------------------------------
    # Runs
    # ------------------------------------------------------------------

    @api.model
    def _cron_reconcile(self):
        """Reconcile the due providers, one per step: the cron commits after
        each (``_notify_progress``), so a slow provider delays the others
        without holding their results back."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("reconcile_enabled", "=", True),
                "|",
                ("reconcile_last_run", "=", False),
                ("reconcile_last_run", "<=", now - RECONCILE_MIN_INTERVAL),
            ],
            order="reconcile_last_run asc nulls first, id",
        )
        done = 0
        for provider in due:
            if provider.with_company(provider.company_id)._reconcile_run() is not None:
                done += 1
                break
        remaining = max(len(due) - 1, 0) if done else 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    def _reconcile_run(self, now=None):
        """Fetch the provider's recent calls and process the missing ones.
        Return ``(found, recovered)``, or None when the kind has no call
        history. Any failure is recorded on the provider, never raised."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        hours = min(max(self.reconcile_window_hours or 24, 1), MAX_WINDOW_HOURS)
        since = now - timedelta(hours=hours)
        try:
            events = self._reconcile_fetch(since, now)
        except ReconcileUnsupported:
            return None
        except outbound.OutboundError as exc:
            return self._reconcile_failed(now, exc.message)
        except ReconcileError as exc:
            return self._reconcile_failed(now, exc.message)
        # an API answer of any shape must not stop the cron: logged, recorded
        except Exception as exc:
            _logger.exception("call_tracking: reconciliation of provider %s failed", self.id)
            return self._reconcile_failed(now, self.env._("Unreadable answer: %s", exc))
        found, recovered = self._reconcile_process(events)
        self.write(
            {
                "reconcile_last_run": now,
                "reconcile_last_success": now,
                "reconcile_last_found": found,
                "reconcile_last_recovered": recovered,
                "reconcile_last_error": False,
            }
        )
        _logger.info(
            "call_tracking: provider %s reconciled: %s calls found, %s recovered",
            self.id,
            found,
            recovered,
        )
        return found, recovered

    def _reconcile_failed(self, now, message):
        self.write({"reconcile_last_run": now, "reconcile_last_error": message})
        _logger.warning("call_tracking: reconciliation of provider %s failed: %s", self.id, message)
        return 0, 0

    @api.model
    def _reconcile_valid_events(self, events):
        """The last end event (else the last event) of each call, keyed by
        call id, of a fetched list; malformed items are skipped."""
        by_call = {}
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict) or event.get("event") not in EVENT_TYPES:
                continue
            call_id = event.get("call_id")
            if not isinstance(call_id, str) or not call_id or len(call_id) > 255:
                continue
            known = by_call.get(call_id)
            if known is None or event["event"] == "call_end" or known["event"] != "call_end":
                by_call[call_id] = event
        return by_call

    def _reconcile_process(self, events):
        """Process, through the inbox, the fetched calls that Odoo lacks or
        has without their end; return ``(found, recovered)``."""
        self.ensure_one()
        by_call = self._reconcile_valid_events(events)
        if not by_call:
            return 0, 0
        # the calls and the inbox are system records: read and written as
        # the webhook does (the provider is already in sudo in the cron and
        # the button); one read of the calls Odoo already has among them
        calls_sudo = (
            self.env["call.tracking.call"]
            .sudo()
            .search_fetch(
                [("provider_id", "=", self.id), ("provider_call_id", "in", list(by_call))],
                ["provider_call_id", "status"],
            )
        )
        known = {call.provider_call_id: call.status for call in calls_sudo}
        events_sudo = self.env["call.tracking.webhook.event"].sudo()
        recovered = 0
        for call_id, event in by_call.items():
            status = known.get(call_id)
            if status in FINAL_STATUSES or (status and event["event"] != "call_end"):
                continue  # Odoo has the call (and its end when the API has it)
            try:
                entry = events_sudo._create_from_api(self, [event])
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                # the call's webhook is being processed right now: its
                # savepoint was rolled back, the next run checks it again
                continue
            recovered += entry.state == "processed"
        return len(by_call), recovered
