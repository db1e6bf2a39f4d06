"""The provider's own call tracking, as a hint for calls we cannot attribute.

Some providers run call tracking of their own and report the visit a call
came from (Binotel: ``callTrackingData`` with the visit's ``utm_*`` and GA
client id). It never overrides our attribution: it is used only for a call
that matched neither a session nor a channel of ours, and then the
attribution method says the data came from the provider.
"""

import json

from psycopg2.errors import UniqueViolation

from odoo import fields, models

from ..exceptions import ConcurrentCreation
from .call_tracking_call_attribution import UTM_FIELDS


class CallTrackingCall(models.Model):
    _inherit = "call.tracking.call"

    attribution_method = fields.Selection(
        selection_add=[("provider", "Provider's call tracking")],
        ondelete={"provider": "set null"},
    )
    provider_tracking_data = fields.Text(
        string="Provider's Tracking Data",
        readonly=True,
        help="The visit data the provider's own call tracking reported (utm_* values, "
        "GA client id), kept as reported.",
    )

    def _apply_webhook_event(self, event):
        result = super()._apply_webhook_event(event)
        hint = event.get("provider_attribution")
        if isinstance(hint, dict) and hint:
            self._apply_provider_hint(hint)
        return result

    def _apply_provider_hint(self, hint):
        """Keep the provider's visit data; credit the call with its UTM
        values when none of our sessions or channels matched it, and give
        its lead the values it lacks."""
        self.ensure_one()
        vals = {}
        if not self.provider_tracking_data:
            vals["provider_tracking_data"] = json.dumps(hint, sort_keys=True)
        if not self.session_id and not self.channel_id and hint.get("utm_source"):
            utm_mixin = self.env["utm.mixin"]
            for fname, model, key in UTM_FIELDS:
                raw = (hint.get(key) or "").strip()[:256]
                if not raw:
                    continue
                try:
                    vals[fname] = utm_mixin._find_or_create_record(model, raw).id
                except UniqueViolation as exc:
                    raise ConcurrentCreation(f"{model} {raw!r} created concurrently") from exc
            vals.update(
                attribution_method="provider",
                attribution_confidence="low",
                utm_term=hint.get("utm_term") or False,
            )
        if vals:
            self.write(vals)
        lead = self.lead_id
        if lead and vals.get("attribution_method") == "provider":
            lead_vals = {
                fname: vals[fname]
                for fname in ("source_id", "medium_id", "campaign_id")
                if vals.get(fname) and not lead[fname]
            }
            if lead_vals:
                lead.write(lead_vals)
