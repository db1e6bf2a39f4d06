from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import recognition
from ..tools.recognition import Channel, Rule, TrackingSetup, split_values


class CallTrackingChannel(models.Model):
    """An advertising source: how its visitors are recognised and which
    number (static) or pool (dynamic) they are shown."""

    _name = "call.tracking.channel"
    _inherit = ["call.tracking.setup.mixin"]
    _description = "Call Tracking Channel"
    _order = "sequence, id"
    _tracking_setup_fields = frozenset(
        (
            "name",
            "active",
            "sequence",
            "company_id",
            "tracking_type",
            "number_id",
            "pool_id",
            "is_default",
            "is_offline",
        )
    )

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10, help="Priority: channels are tried in this order, lowest first."
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    tracking_type = fields.Selection(
        [("static", "Static number"), ("dynamic", "Dynamic pool")],
        required=True,
        default="static",
        help="Static: one number for the channel (also printed offline). "
        "Dynamic: each visitor leases a number from a pool.",
    )
    number_id = fields.Many2one(
        "call.tracking.number",
        string="Static Number",
        index="btree_not_null",
        domain="[('company_id', '=', company_id), ('pool_id', '=', False)]",
    )
    pool_id = fields.Many2one(
        "call.tracking.pool",
        index="btree_not_null",
        domain="[('company_id', '=', company_id)]",
    )
    is_default = fields.Boolean(
        string="Direct Traffic",
        help="Used for visitors that no rule recognises (direct traffic).",
    )
    is_offline = fields.Boolean(
        string="Offline",
        help="Billboard, radio, print: the number is never shown on the website.",
    )
    rule_ids = fields.One2many(
        "call.tracking.channel.rule", "channel_id", string="Recognition Rules"
    )
    # UTM values written on the sessions and leads of this channel
    source_id = fields.Many2one("utm.source", index="btree_not_null")
    medium_id = fields.Many2one("utm.medium", index="btree_not_null")
    campaign_id = fields.Many2one("utm.campaign", index="btree_not_null")
    color = fields.Integer()
    rule_count = fields.Integer(compute="_compute_rule_count")
    session_count = fields.Integer(
        compute="_compute_session_count", groups="call_tracking.call_tracking_group_manager"
    )
    # targeted call goal
    targeted_goal = fields.Float(
        string="Targeted Calls Goal (%)",
        default=lambda self: self.env.company.call_tracking_targeted_goal,
        help="Share of targeted calls marketing should reach on this channel.",
    )
    targeted_share = fields.Float(
        string="Targeted Calls (%)",
        compute="_compute_targeted_share",
        digits=(16, 1),
        groups="call_tracking.call_tracking_group_manager",
        help="Targeted calls among the qualified calls of the last days (pool health "
        "period of the company settings).",
    )
    targeted_goal_met = fields.Boolean(
        compute="_compute_targeted_share",
        groups="call_tracking.call_tracking_group_manager",
    )

    @api.depends("rule_ids")
    def _compute_rule_count(self):
        for channel in self:
            channel.rule_count = len(channel.rule_ids)

    def _compute_session_count(self):
        counts = {}
        if self.ids:
            groups = self.env["call.tracking.session"]._read_group(
                [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]
            )
            counts = {channel.id: count for channel, count in groups}
        for channel in self:
            channel.session_count = counts.get(channel.id, 0)

    @api.depends("targeted_goal")
    def _compute_targeted_share(self):
        """One grouped read for all channels."""
        counts = {}
        if self.ids:
            days = max(self.company_id.mapped("call_tracking_health_days") or [30])
            since = fields.Datetime.now() - timedelta(days=days)
            for channel, quality, count in self.env["call.tracking.call"]._read_group(
                [
                    ("channel_id", "in", self.ids),
                    ("quality", "!=", False),
                    ("start_at", ">=", since),
                ],
                ["channel_id", "quality"],
                ["__count"],
            ):
                counts.setdefault(channel.id, {})[quality] = count
        for channel in self:
            by_quality = counts.get(channel.id, {})
            qualified = sum(by_quality.values())
            channel.targeted_share = (
                100.0 * by_quality.get("targeted", 0) / qualified if qualified else 0.0
            )
            channel.targeted_goal_met = bool(qualified) and (
                channel.targeted_share >= channel.targeted_goal
            )

    @api.constrains("tracking_type", "number_id", "pool_id", "company_id")
    def _check_number_or_pool(self):
        for channel in self:
            if channel.tracking_type == "static" and channel.pool_id:
                raise ValidationError(
                    self.env._(
                        "The static channel %(channel)s cannot use a pool.",
                        channel=channel.name,
                    )
                )
            if channel.tracking_type == "dynamic" and channel.number_id:
                raise ValidationError(
                    self.env._(
                        "The dynamic channel %(channel)s takes its numbers from its "
                        "pool, not from a static number.",
                        channel=channel.name,
                    )
                )
            if channel.number_id.pool_id:
                raise ValidationError(
                    self.env._(
                        "The number %(number)s belongs to the pool %(pool)s: it "
                        "cannot also be the static number of %(channel)s.",
                        number=channel.number_id.number,
                        pool=channel.number_id.pool_id.name,
                        channel=channel.name,
                    )
                )
            for record in (channel.number_id, channel.pool_id):
                if record and record.company_id != channel.company_id:
                    raise ValidationError(
                        self.env._(
                            "The channel %(channel)s and its %(record)s must belong "
                            "to the same company.",
                            channel=channel.name,
                            record=record.display_name,
                        )
                    )

    @api.constrains("is_default", "active", "company_id")
    def _check_single_default(self):
        defaults = self.filtered(lambda c: c.is_default and c.active)
        if not defaults:
            return
        groups = self._read_group(
            [("is_default", "=", True), ("company_id", "in", defaults.company_id.ids)],
            ["company_id"],
            ["__count"],
        )
        for company, count in groups:
            if count > 1:
                raise ValidationError(
                    self.env._(
                        "The company %(company)s already has a direct traffic "
                        "channel: only one channel can receive unrecognised visitors.",
                        company=company.name,
                    )
                )

    def action_view_sessions(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_session_action"
        )
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"search_default_filter_live": 0}
        return action

    # ------------------------------------------------------------------
    # Recognition
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache("company_id", "lang")
    def _get_tracking_setup(self, company_id, lang):
        """Everything the number assignment needs about a company's active
        channels and their rules, read with two queries and cached per company
        (cleared when channels, rules, numbers, pools or the company's
        settings change, across workers through the registry signaling).

        :return: an immutable :class:`~..tools.recognition.TrackingSetup`,
          shared between requests; the recognition functions of
          ``tools/recognition.py`` take it.
        """
        # the company's default number and display settings, whoever asks
        company_sudo = self.env["res.company"].sudo().browse(company_id)
        for model in (
            "call.tracking.channel",
            "call.tracking.channel.rule",
            "call.tracking.number",
            "call.tracking.pool",
            "res.company",
        ):
            self.env[model].flush_model()
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT c.id, c.sequence, c.tracking_type, c.is_default, c.is_offline,
                   COALESCE(c.name->>%(lang)s, c.name->>'en_US') AS name,
                   n.id AS number_id, n.number AS number,
                   p.id AS pool_id, p.hold_minutes, p.default_number AS pool_default,
                   r.id AS rule_id, r.utm_source, r.utm_medium, r.utm_campaign,
                   r.referrer_domains, r.referrer_type, r.landing_param
              FROM call_tracking_channel c
         LEFT JOIN call_tracking_number n ON n.id = c.number_id AND n.active
         LEFT JOIN call_tracking_pool p ON p.id = c.pool_id AND p.active
         LEFT JOIN call_tracking_channel_rule r ON r.channel_id = c.id
             WHERE c.company_id = %(company)s AND c.active
          ORDER BY c.sequence, c.id, r.sequence, r.id
            """,
                lang=lang or "en_US",
                company=company_id,
            )
        )
        pool_numbers = self.env.execute_query(
            SQL(
                """
            SELECT number FROM call_tracking_number
             WHERE company_id = %s AND pool_id IS NOT NULL AND active
                """,
                company_id,
            )
        )
        Number = self.env["call.tracking.number"]

        def display(number):
            return Number._format_display(number, company_sudo) if number else ""

        company_default = company_sudo.call_tracking_default_number or False
        configs, rules = {}, {}
        for row in rows:
            if row["id"] not in configs:
                configs[row["id"]] = row
                rules[row["id"]] = []
            if row["rule_id"]:
                rules[row["id"]].append(
                    Rule.from_config(
                        utm_source=row["utm_source"],
                        utm_medium=row["utm_medium"],
                        utm_campaign=row["utm_campaign"],
                        referrer_domains=row["referrer_domains"],
                        referrer_type=row["referrer_type"],
                        landing_param=row["landing_param"],
                    )
                )
        channels = []
        for channel_id, row in configs.items():
            mode = row["tracking_type"]
            number = row["number"] if mode == "static" else False
            pool_id = row["pool_id"] if mode == "dynamic" else False
            fallback = (pool_id and row["pool_default"]) or company_default
            channels.append(
                Channel(
                    id=channel_id,
                    name=row["name"] or "",
                    mode=mode if (number or pool_id) else "default",
                    is_default=bool(row["is_default"]),
                    is_offline=bool(row["is_offline"]),
                    number_id=row["number_id"] if number else False,
                    number=number,
                    display=display(number),
                    pool_id=pool_id,
                    hold_minutes=row["hold_minutes"] if pool_id else 0,
                    fallback=fallback,
                    fallback_display=display(fallback),
                    rules=tuple(rules[channel_id]),
                )
            )
        return TrackingSetup.build(
            channels,
            company_default=company_default,
            company_default_display=display(company_default),
            displays={number: display(number) for (number,) in pool_numbers},
        )

    @api.model
    def _recognise(self, company, url=None, referrer=None, lang=None):
        """The channel of a page view (a ``call.tracking.channel`` record,
        empty when no rule matches and the company has no direct traffic
        channel). Channels are tried by priority (sequence), then their rules
        by sequence; the first rule whose filled conditions all hold wins."""
        setup = self._get_tracking_setup(company.id, lang or "en_US")
        channel = recognition.recognise(setup, recognition.parse_touch(url, referrer))
        return self.browse(channel.id if channel else [])


class CallTrackingChannelRule(models.Model):
    """One way to recognise a channel's visitors. All filled conditions of a
    rule must hold; any rule of a channel is enough."""

    _name = "call.tracking.channel.rule"
    _inherit = ["call.tracking.setup.mixin"]
    _description = "Call Tracking Channel Rule"
    _order = "channel_id, sequence, id"

    channel_id = fields.Many2one(
        "call.tracking.channel", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    utm_source = fields.Char(string="utm_source", help="Comma-separated values, case-insensitive.")
    utm_medium = fields.Char(string="utm_medium", help="Comma-separated values, case-insensitive.")
    utm_campaign = fields.Char(
        string="utm_campaign", help="Comma-separated values, case-insensitive."
    )
    referrer_domains = fields.Char(
        help="Comma-separated domains; subdomains match too (google.com matches www.google.com)."
    )
    referrer_type = fields.Selection(
        [("search", "Search engines"), ("social", "Social networks")],
        string="Referrer Family",
        help="Matches the referrers of well-known search engines (organic search) "
        "or social networks, in addition to the listed domains.",
    )
    landing_param = fields.Char(
        string="Landing Parameter",
        help="A URL parameter whose presence recognises the channel, e.g. gclid.",
    )

    @api.constrains(
        "channel_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "referrer_domains",
        "referrer_type",
        "landing_param",
    )
    def _check_condition(self):
        for rule in self:
            if not (
                split_values(rule.utm_source)
                or split_values(rule.utm_medium)
                or split_values(rule.utm_campaign)
                or split_values(rule.referrer_domains)
                or rule.referrer_type
                or (rule.landing_param or "").strip()
            ):
                raise ValidationError(
                    self.env._(
                        "A recognition rule of %(channel)s has no condition: fill "
                        "at least one UTM value, referrer or landing parameter.",
                        channel=rule.channel_id.name,
                    )
                )
