import csv
import io
import logging
import time
from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL, file_open

_logger = logging.getLogger(__name__)

# columns of a traffic recording (CSV); empty cells are left out
TRAFFIC_COLUMNS = (
    "ago",  # seconds before the end of the recording
    "kind",  # visit, call or judge
    "visitor",  # a label of the visitor within the recording
    "url",
    "referrer",
    "stay",  # visit: seconds until the visitor's last page view
    "call_id",
    "caller",
    "to",  # call: the number dialled; empty: the number shown to the visitor
    "ring",  # call: seconds before it was answered (or given up)
    "talk",  # call: seconds of conversation
    "status",
    "quality",  # judge: targeted or untargeted
    "reason",  # judge: name of a call.tracking.quality.reason
    "outcome",  # judge: won or lost
    "revenue",  # judge: expected revenue
    "agent",  # call: login or email of the user who answered (or missed) it
)
INTEGER_COLUMNS = ("ago", "stay", "ring", "talk")


class CallTrackingReplay(models.AbstractModel):
    """Replay a recorded or simulated stream of page views and calls through
    the real code, each at its own time: the number assignment
    (``call.tracking.session._assign_number`` with ``now``) and the webhook
    processing (``call.tracking.call._process_webhook_events``), so that
    leases, their order, exhaustions, attribution and leads come out exactly
    as the product makes them. The demo history is made this way.

    A model (and not a script) only because the demo data calls it
    (``demo/call_tracking_traffic_demo.xml``, a ``<function>`` element);
    the traffic itself is written by ``scripts/generate_traffic_demo.py``,
    which is not part of the module. Nothing at runtime calls it."""

    _name = "call.tracking.replay"
    _description = "Call Tracking Traffic Replay"

    @api.model
    def _replay_traffic(self, company, provider, events, website=None):
        """Replay ``events`` in their order (they must be in time order).

        Each event is a dict with ``kind`` and ``at`` (a naive UTC datetime):

        - ``visit``: a page view of ``visitor`` (a label: its first page view
          gets a fresh key, later ones send the key of its last answer) with
          ``url``, ``referrer`` and optionally ``ga_client_id``,
          ``user_agent``;
        - ``call``: a call from ``caller`` to ``to``, or else to the number
          last shown to ``visitor``; ``call_id``, ``ring`` and ``talk``
          (seconds), ``status``; delivered as the provider's ``call_start``
          and ``call_end`` events;
        - ``judge``: sales judge the lead of call ``call_id``: ``quality``
          (targeted or untargeted), ``reason`` (a quality reason's name),
          ``revenue``, ``outcome`` (won or lost); a judgement with an
          outcome only closes the lead later than its call.

        The calls, their leads and the leads' call notes are then dated at
        their replayed time, and the leads won or lost closed at the time of
        their outcome. Replayed history notifies nobody and tracks no
        field change (``tracking_disable``, as Odoo imports records).

        :return: dict with ``answers`` (visitor label -> last answer) and
          ``calls`` (the calls made)
        """
        return self.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
            mail_notify_force_send=False,
            mail_activity_quick_update=True,
        )._replay_events(company, provider, events, website)

    @api.model
    def _replay_events(self, company, provider, events, website=None):
        company = company.with_env(self.env)
        provider = provider.with_env(self.env)
        Session = self.env["call.tracking.session"]
        Call = self.env["call.tracking.call"].sudo()
        reasons = {r.name: r for r in self.env["call.tracking.quality.reason"].search([])}
        answers, keys = {}, {}
        calls, call_by_id, dates, closings = Call.browse(), {}, [], {}
        started = time.monotonic()
        events = list(events)
        for event in events:
            at = event["at"].replace(microsecond=0)
            kind = event["kind"]
            if kind == "visit":
                label = event.get("visitor")
                answer = Session._assign_number(
                    company,
                    website=website,
                    visitor_key=keys.get(label),
                    url=event.get("url"),
                    referrer=event.get("referrer"),
                    ga_client_id=event.get("ga_client_id"),
                    user_agent=event.get("user_agent"),
                    now=at,
                )
                keys[label] = answer["visitor"]
                answers[label] = answer
            elif kind == "call":
                call = self._replay_call(provider, event, at, answers)
                call_by_id[event["call_id"]] = call
                calls |= call
                dates.append(at)
            elif kind == "judge":
                lead = call_by_id[event["call_id"]].lead_id
                self._replay_judgement(lead, event, reasons)
                if lead and event.get("outcome") in ("won", "lost"):
                    closings[lead.id] = at
        self._replay_dates(calls, dates)
        self._replay_closings(closings)
        _logger.info(
            "call_tracking: replayed %s events (%s calls) in %.1f s",
            len(events),
            len(calls),
            time.monotonic() - started,
        )
        return {"answers": answers, "calls": calls}

    @api.model
    def _replay_call(self, provider, event, at, answers):
        number = event.get("to") or (answers.get(event.get("visitor")) or {}).get("number")
        ring, talk = int(event.get("ring") or 0), int(event.get("talk") or 0)
        status = event.get("status") or ("answered" if talk else "missed")
        answered = status == "answered"
        common = {
            "call_id": event["call_id"],
            "from": event.get("caller"),
            "to": number,
            "start": at,
        }
        if event.get("agent"):
            common["agent"] = event["agent"]
        end = {
            **common,
            "event": "call_end",
            "answer": at + timedelta(seconds=ring) if answered else None,
            "end": at + timedelta(seconds=ring + talk),
            "duration": ring + talk,
            "talk_duration": talk if answered else 0,
            "status": status,
        }
        return (
            self.env["call.tracking.call"]
            .sudo()
            ._process_webhook_events(provider, [{**common, "event": "call_start"}, end])
        )

    @api.model
    def _replay_judgement(self, lead, event, reasons):
        if not lead:
            return
        if event.get("quality"):
            lead._set_call_quality(event["quality"])
        vals = {}
        reason = reasons.get(event.get("reason"))
        if reason and reason.quality in (False, lead.call_quality):
            vals["call_quality_reason_id"] = reason.id
        if event.get("revenue"):
            vals["expected_revenue"] = float(event["revenue"])
        if vals:
            lead.write(vals)
        if event.get("outcome") == "won":
            lead.action_set_won()
        elif event.get("outcome") == "lost":
            lead.action_set_lost()

    @api.model
    def _replay_dates(self, calls, dates):
        """Date the replayed calls at their start, their leads at their first
        call and the call notes at the call's end."""
        if not calls:
            return
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
            UPDATE call_tracking_call c SET create_date = v.date, write_date = v.date
              FROM unnest(%s::int4[], %s::timestamp[]) AS v(id, date)
             WHERE c.id = v.id
                """,
                calls.ids,
                dates,
            )
        )
        self.env.execute_query(
            SQL(
                """
            UPDATE crm_lead l SET create_date = first.date
              FROM (SELECT lead_id, min(start_at) AS date FROM call_tracking_call
                     WHERE id = ANY(%s) AND lead_id IS NOT NULL GROUP BY lead_id) AS first
             WHERE l.id = first.lead_id AND l.create_date > first.date
                """,
                calls.ids,
            )
        )
        # the call notes of the leads, in order, dated at the call's end
        self.env.execute_query(
            SQL(
                """
            UPDATE mail_message m SET date = n.end_at, create_date = n.end_at,
                   write_date = n.end_at
              FROM (SELECT m.id, c.end_at
                      FROM (SELECT id, res_id, row_number() OVER (
                                       PARTITION BY res_id ORDER BY id) AS rank
                              FROM mail_message
                             WHERE model = 'crm.lead' AND message_type = 'notification'
                               AND author_id = %(root)s AND res_id = ANY(%(leads)s)) m
                      JOIN (SELECT id, lead_id, end_at, row_number() OVER (
                                       PARTITION BY lead_id ORDER BY start_at, id) AS rank
                              FROM call_tracking_call
                             WHERE id = ANY(%(calls)s)) c
                        ON c.lead_id = m.res_id AND c.rank = m.rank) AS n
             WHERE m.id = n.id AND n.end_at IS NOT NULL
                """,
                root=self.env["ir.model.data"]._xmlid_to_res_id("base.partner_root"),
                leads=calls.lead_id.ids,
                calls=calls.ids,
            )
        )
        self.env.invalidate_all()

    @api.model
    def _replay_closings(self, closings):
        """Date the leads won or lost at the time of their outcome
        (``{lead id: naive UTC datetime}``): CRM dates a closing at the
        moment it is written, the replay's present."""
        if not closings:
            return
        self.env.flush_all()
        self.env.execute_query(
            SQL(
                """
            UPDATE crm_lead l SET date_closed = v.date
              FROM unnest(%s::int4[], %s::timestamp[]) AS v(id, date)
             WHERE l.id = v.id AND l.date_closed IS NOT NULL
                """,
                list(closings),
                list(closings.values()),
            )
        )
        self.env.invalidate_all()

    @api.model
    def _replay_traffic_file(self, company, provider, path, end=None, website=None):
        """Replay a traffic recording: a CSV file of the columns of
        ``TRAFFIC_COLUMNS`` (an addon-relative ``path``), its times counted
        back from ``end`` (a naive UTC datetime; default: the database's
        ``now()``, cut to the hour). A visit with ``stay`` gets a second page
        view of the same site ``stay`` seconds later (the visitor's last
        activity, which extends their lease).

        :param company: ``res.company`` (or its id)
        :param provider: ``call.tracking.provider`` (or its id) of the calls
        """
        company = self.env["res.company"].browse(getattr(company, "id", company))
        provider = self.env["call.tracking.provider"].browse(getattr(provider, "id", provider))
        website = website and self.env["website"].browse(getattr(website, "id", website))
        end = end or self.env.cr.now().replace(minute=0, second=0, microsecond=0)
        with file_open(path, "r") as file:
            rows = list(csv.DictReader(io.StringIO(file.read())))
        events = []
        for index, row in enumerate(rows):
            event = {k: v for k, v in row.items() if k in TRAFFIC_COLUMNS and v not in ("", None)}
            for name in INTEGER_COLUMNS:
                if name in event:
                    event[name] = int(event[name])
            event["at"] = end - timedelta(seconds=event.pop("ago"))
            events.append((event["at"], index, 0, event))
            if event["kind"] == "visit" and event.get("stay"):
                again = {
                    "kind": "visit",
                    "visitor": event.get("visitor"),
                    "at": event["at"] + timedelta(seconds=event["stay"]),
                    "url": self._replay_same_site(event.get("url")),
                    "referrer": event.get("url"),
                }
                events.append((again["at"], index, 1, again))
        events.sort(key=lambda item: item[:3])
        return self._replay_traffic(
            company, provider, [item[3] for item in events], website=website or None
        )

    @api.model
    def _replay_same_site(self, url):
        """An internal page of ``url``'s site (no marketing parameters)."""
        base = (url or "").split("?", 1)[0].split("#", 1)[0]
        scheme, _sep, rest = base.partition("://")
        host = rest.split("/", 1)[0]
        return f"{scheme}://{host}/contactus" if host else False
