"""The generic kind's pull contract for the reconciliation (see
docs/admin/reconciliation.rst, "Generic kind: the pull contract").

Odoo sends ``GET <call history URL>?since=<ISO 8601 UTC>&until=<ISO 8601
UTC>[&cursor=<opaque>]`` with ``X-Call-Tracking-Signature: sha256=<hex
HMAC-SHA256 of the query string, keyed with the provider secret>``. The PBX
answers JSON ``{"events": [<generic webhook events>], "next_cursor":
<string or null>}`` signed the same way over the raw answer body. Each
event is read exactly as the generic webhook reads it.
"""

import hmac
import json
from urllib.parse import urlencode

from odoo import models

from ..exceptions import WebhookPayloadError
from ..tools import outbound
from .call_tracking_provider_generic import SIGNATURE_HEADER, generic_signature
from .call_tracking_provider_reconcile import MAX_PAGES, ReconcileError, ReconcileUnsupported


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _reconcile_fetch(self, since, until):
        if self.kind != "generic":
            return super()._reconcile_fetch(since, until)
        _ = self.env._
        if not self.reconcile_url:
            raise ReconcileUnsupported(self.kind)
        secret = self._get_webhook_secret() if self.secret else None
        if not secret:
            raise ReconcileError(_("The provider has no signing secret."))
        params = {
            "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "until": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        events = []
        for _page in range(MAX_PAGES):
            query = urlencode(params)
            response = outbound.request(
                self.env,
                "GET",
                f"{self.reconcile_url}{'&' if '?' in self.reconcile_url else '?'}{query}",
                headers={SIGNATURE_HEADER: generic_signature(secret, query.encode())},
                secrets=(secret,),
                timeout=self._reconcile_timeout(),
            )
            received = (response.headers.get(SIGNATURE_HEADER) or "").strip().encode()
            expected = generic_signature(secret, response.content).encode()
            if not hmac.compare_digest(received, expected):
                raise ReconcileError(_("The call history's answer is not signed with the secret."))
            try:
                payload = json.loads(response.content)
            except (ValueError, RecursionError) as exc:
                raise ReconcileError(_("The call history's answer is not JSON.")) from exc
            if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
                raise ReconcileError(_("The call history's answer has no list of events."))
            for item in payload["events"]:
                # read exactly as the generic webhook reads one request
                try:
                    events.extend(self._parse_webhook_events({"body": json.dumps(item).encode()}))
                except WebhookPayloadError:
                    continue
            cursor = payload.get("next_cursor")
            if not isinstance(cursor, str) or not cursor or cursor == params.get("cursor"):
                break
            params["cursor"] = cursor[:512]
        return events
