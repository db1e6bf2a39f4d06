from odoo import api, fields, models


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "call.tracking.setup.mixin"]
    _tracking_setup_fields = frozenset(
        (
            "call_tracking_default_number",
            "call_tracking_display_format",
            "country_id",
            # the client guard of the number assignment
            "call_tracking_lease_cap_address",
            "call_tracking_lease_cap_network",
            "call_tracking_lease_lifetime_hours",
        )
    )

    call_tracking_repeat_days = fields.Integer(
        string="Repeat Call Window (days)",
        default=30,
        help="A call from a number that called within this many days is attached "
        "to the caller's open lead instead of creating a new one. 0 disables it.",
    )
    call_tracking_default_number = fields.Char(
        string="Default Tracking Number",
        help="Shown to website visitors that no channel recognises and when a "
        "pool without its own fallback number is full. Stored in E.164.",
    )
    call_tracking_display_format = fields.Selection(
        [("national", "National"), ("international", "International")],
        string="Number Display Format",
        default="national",
        required=True,
        help="How tracking numbers are written for people: national format for "
        "numbers of the company's country, or always international.",
    )
    call_tracking_session_retention_days = fields.Integer(
        string="Keep Visitor Sessions (days)",
        default=180,
        help="Visitor sessions older than this are deleted every night; the "
        "hourly pool statistics are kept.",
    )
    call_tracking_webhook_retention_days = fields.Integer(
        string="Keep Webhook Inbox (days)",
        default=30,
        help="Webhook inbox entries (the raw requests of the providers) older than "
        "this are deleted every night.",
    )
    # reports
    call_tracking_targeted_goal = fields.Float(
        string="Targeted Calls Goal (%)",
        default=80.0,
        help="Share of targeted calls a channel should reach; the default goal of new channels.",
    )
    call_tracking_exhaustion_target = fields.Float(
        string="Acceptable Pool Exhaustion (%)",
        default=1.0,
        help="The recommended pool size keeps the chance that a visitor finds the pool "
        "full at the peak hour under this value.",
    )
    call_tracking_health_days = fields.Integer(
        string="Pool Health Period (days)",
        default=30,
        help="Pool health figures and channel targeted shares cover this many past days.",
    )
    # attribution and spam
    call_tracking_late_call_hours = fields.Integer(
        string="Late-Call Window (hours)",
        default=24,
        help="A call more than this many hours after its number's lease lapsed is not "
        "attributed to that visitor.",
    )
    call_tracking_attribution_target = fields.Float(
        string="Attributable Calls Target (%)",
        default=97.0,
        help="The pool size recommended for attribution makes this share of the calls "
        "attributed to the right visitor.",
    )
    call_tracking_spam_repeat_count = fields.Integer(
        string="Spam: Repeated Calls",
        default=3,
        help="A caller calling this many times (this call included) within the spam window, "
        "the earlier calls with almost no talk time, is spam. 0 disables the rule.",
    )
    call_tracking_spam_repeat_minutes = fields.Integer(
        string="Spam: Window (minutes)",
        default=10,
    )
    call_tracking_spam_talk_seconds = fields.Integer(
        string="Spam: Short Talk (seconds)",
        default=5,
        help="A call with at most this much talk time counts as a short call for the spam rule.",
    )
    call_tracking_spam_no_caller_id = fields.Boolean(
        string="Spam: Calls Without Caller ID",
        help="Calls whose caller id is hidden or not a phone number are spam.",
    )

    # pools that cannot be drained
    call_tracking_lease_cap_address = fields.Integer(
        string="Live Leases per Address",
        default=3,
        help="Most dynamic numbers one client address may hold at once; beyond it the "
        "visitor sees the fallback number (counted as refused). 0: no limit.",
    )
    call_tracking_lease_cap_network = fields.Integer(
        string="Live Leases per Network",
        default=10,
        help="Most dynamic numbers one client network (/24 for IPv4, /64 for IPv6) may "
        "hold at once. Raise it when many real visitors share one office network. "
        "0: no limit.",
    )
    call_tracking_lease_lifetime_hours = fields.Float(
        string="Maximum Lease Lifetime (hours)",
        default=4.0,
        help="A lease is never extended beyond this time after it was assigned, "
        "however often the page pings.",
    )

    _sql_constraints = [
        (
            "call_tracking_lease_caps_positive",
            "CHECK(call_tracking_lease_cap_address >= 0 AND call_tracking_lease_cap_network >= 0)",
            "The caps of live leases per client cannot be negative (0: no limit).",
        ),
        (
            "call_tracking_lease_lifetime_positive",
            "CHECK(call_tracking_lease_lifetime_hours > 0)",
            "The maximum lease lifetime must be positive.",
        ),
        (
            "call_tracking_late_call_hours_positive",
            "CHECK(call_tracking_late_call_hours > 0)",
            "The late-call window must be at least one hour.",
        ),
        (
            "call_tracking_attribution_target_range",
            (
                "CHECK(call_tracking_attribution_target > 0"
                " AND call_tracking_attribution_target < 100)"
            ),
            "The attributable calls target must be between 0 and 100%.",
        ),
        (
            "call_tracking_spam_values_positive",
            (
                "CHECK(call_tracking_spam_repeat_count >= 0"
                " AND call_tracking_spam_repeat_minutes > 0"
                " AND call_tracking_spam_talk_seconds >= 0)"
            ),
            "The spam rule's count, window and talk time cannot be negative.",
        ),
        (
            "call_tracking_session_retention_days_positive",
            "CHECK(call_tracking_session_retention_days > 0)",
            "Visitor sessions must be kept at least one day.",
        ),
        (
            "call_tracking_webhook_retention_days_positive",
            "CHECK(call_tracking_webhook_retention_days > 0)",
            "Webhook inbox entries must be kept at least one day.",
        ),
        (
            "call_tracking_exhaustion_target_range",
            "CHECK(call_tracking_exhaustion_target > 0 AND call_tracking_exhaustion_target < 100)",
            "The acceptable pool exhaustion must be between 0 and 100%.",
        ),
        (
            "call_tracking_health_days_positive",
            "CHECK(call_tracking_health_days > 0)",
            "The pool health period must be at least one day.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("call_tracking_default_number"):
                country = self.env["res.country"].browse(vals.get("country_id"))
                vals["call_tracking_default_number"] = self._call_tracking_normalise(
                    vals["call_tracking_default_number"],
                    country or self.env.company.country_id,
                )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("call_tracking_default_number"):
            if vals.get("country_id"):
                by_country = {self.env["res.country"].browse(vals["country_id"]): self}
            else:
                by_country = self.grouped("country_id")
            if len(by_country) > 1:
                # each company reads the number with its own country
                for companies in by_country.values():
                    companies.write(dict(vals))
                return True
            country = next(iter(by_country), self.env["res.country"])
            vals["call_tracking_default_number"] = self._call_tracking_normalise(
                vals["call_tracking_default_number"], country
            )
        return super().write(vals)

    @api.model
    def _call_tracking_normalise(self, number, country):
        return self.env["call.tracking.number"]._normalise_number(
            number,
            self.env.company,
            label=self.env._("The default tracking number"),
            country=country,
        )
