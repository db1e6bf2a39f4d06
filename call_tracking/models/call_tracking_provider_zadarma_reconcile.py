"""Zadarma's PBX statistics for the reconciliation.

Followed Zadarma's API documentation (https://zadarma.com/en/support/api/):

* every request carries ``Authorization: <user key>:<signature>``
  (``tools/zadarma.py``);
* ``GET /v1/statistics/pbx/`` with ``start`` and ``end`` (``YYYY-MM-DD
  HH:MM:SS`` in the PBX time zone), ``version=2``, ``call_type=in``,
  ``skip`` and ``limit`` (at most 1000) answers ``{"status": "success",
  "stats": [...]}``, a call having ``pbx_call_id``, ``callstart``, ``clid``
  (caller), ``destination`` (the number called), ``disposition`` and
  ``seconds``.

The values come from Zadarma's API over its authenticated channel, so
they need no webhook signature; the call's signed triple is not set from
them.
"""

from datetime import UTC
from zoneinfo import ZoneInfo

from odoo import models

from ..exceptions import WebhookPayloadError
from ..tools import outbound, zadarma
from ..tools.webhook_parsing import parse_int, parse_naive_local, parse_str
from .call_tracking_provider_reconcile import MAX_PAGES, ReconcileError
from .call_tracking_provider_zadarma import ZADARMA_DISPOSITIONS

ZADARMA_STATS_METHOD = "/v1/statistics/pbx/"
ZADARMA_PAGE_SIZE = 1000


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    def _get_api_default_base_url(self):
        if self.kind == "zadarma":
            return zadarma.API_URL
        return super()._get_api_default_base_url()

    def _reconcile_fetch(self, since, until):
        if self.kind != "zadarma":
            return super()._reconcile_fetch(since, until)
        key, secret = self._reconcile_get_credentials()
        tz = ZoneInfo(self.zadarma_timezone or "UTC")
        base = self._get_api_base_url()
        params = {
            "start": since.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "end": until.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "2",
            "call_type": "in",
            "limit": str(ZADARMA_PAGE_SIZE),
        }
        events = []
        for page in range(MAX_PAGES):
            params["skip"] = str(page * ZADARMA_PAGE_SIZE)
            response = outbound.request(
                self.env,
                "GET",
                base + ZADARMA_STATS_METHOD,
                params=sorted(params.items()),
                headers={
                    "Authorization": zadarma.api_authorization(
                        key, secret, ZADARMA_STATS_METHOD, params
                    )
                },
                secrets=(key, secret),
                timeout=self._reconcile_timeout(),
            )
            payload = self._reconcile_json(response)
            if not isinstance(payload, dict) or payload.get("status") != "success":
                message = payload.get("message") if isinstance(payload, dict) else None
                raise ReconcileError(
                    self.env._("Zadarma's API refused: %s", str(message or "no status")[:200])
                )
            rows = payload.get("stats")
            if not isinstance(rows, list):
                raise ReconcileError(self.env._("Zadarma's API answered without statistics."))
            events.extend(e for e in (self._zadarma_stat_event(row, tz) for row in rows) if e)
            if len(rows) < ZADARMA_PAGE_SIZE:
                break
        return events

    def _zadarma_stat_event(self, row, tz):
        """The end event of one row of the PBX statistics, or None."""
        if not isinstance(row, dict):
            return None
        try:
            disposition = parse_str(self.env, row, "disposition") or ""
            status = ZADARMA_DISPOSITIONS.get(disposition.lower(), "failed")
            seconds = parse_int(self.env, row, "seconds")
            return {
                "event": "call_end",
                "call_id": parse_str(self.env, row, "pbx_call_id", required=True),
                "from": parse_str(self.env, row, "clid"),
                "to": parse_str(self.env, row, "destination"),
                "start": parse_naive_local(self.env, row, "callstart", tz),
                "duration": seconds,
                "talk_duration": seconds if status == "answered" else 0,
                "status": status,
            }
        except WebhookPayloadError:
            return None
