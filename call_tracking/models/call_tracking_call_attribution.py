from datetime import timedelta

from psycopg2.errors import UniqueViolation

from odoo import api, models
from odoo.tools import SQL

from ..const import CONFIDENCE_HOLDERS, DELAY_MODEL_CALLS
from ..exceptions import ConcurrentCreation
from ..tools.attribution import ACTIVE_MINUTES, PRIOR, attribution_probability, fit_delay_model

UTM_FIELDS = (
    ("source_id", "utm.source", "utm_source"),
    ("medium_id", "utm.medium", "utm_medium"),
    ("campaign_id", "utm.campaign", "utm_campaign"),
)


class CallTrackingCall(models.Model):
    """Attribution: the call matched to the visitor who held the called
    number, or to a static channel (the call flow of the public contract)."""

    _inherit = "call.tracking.call"

    def _get_attribution_values(self, event_vals=None, now=None):
        """Match the call to a session or a static channel; the values
        about to be written for the current event (``event_vals``) take
        precedence over the stored ones.

        The call's time is its start; a call reported without one is
        matched at ``now`` (a naive UTC datetime; default: the database
        transaction's ``now()``), so that a replayed call is matched at its
        replayed time: the number's last session assigned by then, live when
        it had not expired, lapsed within the company's late-call window, or
        else not attributed. ``attribution_probability`` says how likely
        the match is right (``tools/attribution.py``)."""
        self.ensure_one()
        event_vals = event_vals or {}
        called_number = event_vals.get("called_number") or self.called_number
        call_time = event_vals.get("start_at") or self.start_at or now or self.env.cr.now()
        number, is_default = self.env["call.tracking.number"]._find_called(
            self.company_id, called_number
        )
        vals = {
            "number_id": number.id,
            "attribution_method": "unknown",
            "attribution_confidence": "none",
            "attribution_probability": 0.0,
            "attribution_delay": 0.0,
        }
        session = self.env["call.tracking.session"]
        channel = self.env["call.tracking.channel"]
        if number.pool_id:
            vals.update(self._get_session_match(number, call_time))
            session = session.browse(vals.pop("session_id", False))
            # no visitor to match (the number was never leased, or too long
            # ago): the number was only shown to the pool's channels, so the
            # call is credited to the first of them, without a visit
            channel = session.channel_id or number.pool_id.channel_ids.sorted("sequence")[:1]
        elif number and number.channel_ids:
            channels = number.channel_ids.sorted("sequence")
            channel = channels[:1]
            vals["attribution_method"] = "static"
            vals["attribution_confidence"] = "high"
            # the number is printed for its channels only: the call is from
            # one of their audiences, the first channel's by the rules' order
            vals["attribution_probability"] = 1.0 / len(channels)
        elif number or is_default:
            vals["attribution_method"] = "default"
        vals["session_id"] = session.id
        vals["channel_id"] = channel.id
        vals.update(self._get_utm_values(session, channel))
        return vals

    def _get_session_match(self, number, call_time):
        """Attribution values of a call to a pool ``number`` at ``call_time``:
        the latest session that held the number by then, and the
        probability that it is the caller's, weighed against the earlier
        holders whose lease lapsed within the late-call window."""
        self.ensure_one()
        window_hours = self.company_id.call_tracking_late_call_hours or 24
        window = timedelta(hours=window_hours)
        holders = self.env["call.tracking.session"]._get_number_holders(
            number, call_time, CONFIDENCE_HOLDERS
        )
        if not holders:
            return {}
        session_id, _seen, expires_at = holders[0]
        live = not expires_at or expires_at >= call_time
        if not live and call_time - expires_at > window:
            return {"attribution_method": "session_late"}
        delays = [
            max((call_time - seen).total_seconds() / 60.0, 0.0)
            for _id, seen, expires in holders
            if not expires or call_time - expires <= window
        ]
        model = self._get_delay_model(self.company_id)
        return {
            "session_id": session_id,
            "attribution_method": "session" if live else "session_expired",
            "attribution_confidence": "high" if live else "low",
            "attribution_probability": attribution_probability(
                model, delays, window.total_seconds() / 60.0
            ),
            "attribution_delay": delays[0],
        }

    @api.model
    def _get_delay_model(self, company):
        """When the company's callers call, learned from its latest calls on
        live leases (one grouped query; ``tools/attribution.py``)."""
        self.flush_model(
            ["company_id", "attribution_method", "attribution_delay", "is_spam", "number_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            WITH live AS (
                SELECT c.attribution_delay AS delay, pool.hold_minutes AS hold,
                       s.last_seen_at - s.assigned_at AS visit
                  FROM call_tracking_call c
                  JOIN call_tracking_number n ON n.id = c.number_id
                  JOIN call_tracking_pool pool ON pool.id = n.pool_id
             LEFT JOIN call_tracking_session s ON s.id = c.session_id
                 WHERE c.company_id = %(company)s AND c.attribution_method = 'session'
                   AND c.is_spam IS NOT TRUE
              ORDER BY c.start_at DESC NULLS LAST
                 LIMIT %(limit)s
            )
            SELECT count(*) FILTER (WHERE delay <= %(active)s),
                   array_agg(delay) FILTER (WHERE delay > %(active)s),
                   array_agg(hold) FILTER (WHERE delay > %(active)s),
                   extract(epoch FROM avg(visit)) / 60.0
              FROM live
                """,
                company=company.id,
                limit=DELAY_MODEL_CALLS,
                active=ACTIVE_MINUTES,
            )
        )
        active, delays, holds, visit = rows[0] if rows else (0, None, None, None)
        if (active or 0) + len(delays or ()) < 1:
            return PRIOR
        return fit_delay_model(
            active or 0,
            list(zip(delays or (), holds or (), strict=True)),
            float(visit) if visit else None,
        )

    def _get_utm_values(self, session, channel):
        """UTM records of the visit (its raw utm_* values, found or created)
        or else of the channel; keyword and landing page of the visit."""
        vals = {}
        utm_mixin = self.env["utm.mixin"]
        for fname, model, session_field in UTM_FIELDS:
            raw = (session[session_field] or "").strip()[:256] if session else ""
            if raw:
                try:
                    record = utm_mixin._find_or_create_record(model, raw)
                except UniqueViolation as exc:
                    # the same new value, created by a concurrent request
                    # (two first calls from one new campaign): retried
                    raise ConcurrentCreation(f"{model} {raw!r} created concurrently") from exc
            else:
                record = channel[fname]
            vals[fname] = record.id
        vals["utm_term"] = session.utm_term if session else False
        vals["landing_url"] = session.landing_url if session else False
        vals["device_class"] = session.device_class if session else False
        vals["os_name"] = session.os_name if session else False
        vals["browser"] = session.browser if session else False
        return vals
