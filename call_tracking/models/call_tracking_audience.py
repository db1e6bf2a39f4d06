import base64
import json
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.safe_eval import datetime as safe_eval_datetime
from odoo.tools.safe_eval import dateutil, safe_eval

from ..tools import outbound
from ..tools.audiences import (
    MIN_AUDIENCE_SIZE,
    PHONE_HASHES,
    google_csv,
    meta_payloads,
    yandex_csv,
)
from .call_tracking_destination_meta import META_ENDPOINT

_logger = logging.getLogger(__name__)
relativedelta = dateutil.relativedelta.relativedelta

YANDEX_AUDIENCE_ENDPOINT = "https://api-audience.yandex.ru/v1/management"
PLATFORMS = [
    ("google_ads", "Google Ads Customer Match"),
    ("meta", "Meta Custom Audiences"),
    ("yandex", "Yandex Audiences"),
]
AUDIENCE_SOURCES = [("call", "Calls"), ("lead", "Leads")]


class CallTrackingAudience(models.Model):
    """A segment of callers sent to an ad platform as an audience.

    The members are the phone numbers of the calls (or leads) that match a
    saved domain, e.g. the targeted callers of the last 90 days, the won
    customers, or the untargeted callers to exclude; numbers on Odoo's
    phone blacklist and contacts on its mail blacklist are left out. Each
    platform gets the numbers normalised and hashed as it documents it
    (``tools/audiences.py``). A sync (cron or button) sends the additions
    and removals since the last one; a member is recorded as sent only once
    the platform accepted it, so a refused or failed sync sends nothing
    twice and loses nothing. Google Ads has no upload API of ours: its sync
    writes the two CSV files (added and removed people) to upload in Google
    Ads, attached to the audience.
    """

    _name = "call.tracking.audience"
    _inherit = ["mail.thread"]
    _description = "Call Tracking Audience"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    platform = fields.Selection(PLATFORMS, required=True, default="google_ads", tracking=True)
    source = fields.Selection(
        AUDIENCE_SOURCES,
        required=True,
        default="call",
        help="Whose numbers: the callers of the matching calls, or the phones of the "
        "matching leads.",
    )
    call_domain = fields.Char(string="Calls", default="[]", tracking=True)
    lead_domain = fields.Char(string="Leads", default="[]", tracking=True)
    auto_sync = fields.Boolean(
        string="Sync Every Day", default=True, help="The daily cron sends the changes."
    )
    platform_audience_ref = fields.Char(
        string="Platform Audience ID",
        tracking=True,
        help="Meta: the Custom Audience ID. Yandex: the segment ID (set by the first sync).",
    )
    # readable by Settings administrators only, as the destinations' credentials
    access_token = fields.Char(copy=False, groups="base.group_system")
    access_token_input = fields.Char(
        string="New Access Token",
        compute="_compute_access_token_input",
        inverse="_inverse_access_token_input",
        help="Write-only. Meta: a Marketing API access token. Yandex: an OAuth token.",
    )
    has_access_token = fields.Boolean(compute="_compute_has_access_token")
    endpoint_url = fields.Char(
        string="Endpoint URL",
        groups="base.group_system",
        help="The platform's address; replace it only for a proxy or a test server.",
    )
    member_ids = fields.One2many("call.tracking.audience.member", "audience_id")
    member_count = fields.Integer(string="People Sent", compute="_compute_member_count")
    matched_count = fields.Integer(
        string="People in the Segment", readonly=True, help="At the last sync."
    )
    size_warning = fields.Char(compute="_compute_size_warning")
    last_sync_at = fields.Datetime(readonly=True)
    last_sync_added = fields.Integer(readonly=True)
    last_sync_removed = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    added_csv = fields.Binary(string="Added (CSV)", attachment=True, readonly=True)
    added_csv_name = fields.Char(readonly=True)
    removed_csv = fields.Binary(string="Removed (CSV)", attachment=True, readonly=True)
    removed_csv_name = fields.Char(readonly=True)

    @api.depends_context("uid")
    def _compute_access_token_input(self):
        self.access_token_input = False

    def _inverse_access_token_input(self):
        for audience in self.filtered("access_token_input"):
            audience.sudo().access_token = audience.access_token_input.strip()

    def _compute_has_access_token(self):
        for audience, audience_sudo in zip(self, self.sudo(), strict=True):
            audience.has_access_token = bool(audience_sudo.access_token)

    @api.depends("member_ids")
    def _compute_member_count(self):
        groups = self.env["call.tracking.audience.member"]._read_group(
            [("audience_id", "in", self.ids)], ["audience_id"], ["__count"]
        )
        counts = {audience.id: count for audience, count in groups}
        for audience in self:
            audience.member_count = counts.get(audience.id, 0)

    @api.depends("matched_count", "last_sync_at")
    def _compute_size_warning(self):
        for audience in self:
            audience.size_warning = (
                self.env._(
                    "People in the segment: %(count)s. The platform needs at least %(min)s "
                    "matched people before it shows ads to an audience.",
                    count=audience.matched_count,
                    min=MIN_AUDIENCE_SIZE,
                )
                if audience.last_sync_at and audience.matched_count < MIN_AUDIENCE_SIZE
                else False
            )

    @api.constrains("call_domain", "lead_domain", "source")
    def _check_domain(self):
        for audience in self:
            try:
                audience._get_source_records(limit=1)
            except (ValueError, SyntaxError, NameError, TypeError, KeyError) as exc:
                raise ValidationError(
                    self.env._(
                        "The segment of %(name)s cannot be read: %(error)s",
                        name=audience.name,
                        error=exc,
                    )
                ) from None

    @api.constrains("endpoint_url")
    def _check_endpoint_url(self):
        for audience in self.sudo().filtered("endpoint_url"):
            try:
                outbound._split(audience.endpoint_url)
            except outbound.ForbiddenDestination as exc:
                raise ValidationError(
                    self.env._(
                        "Endpoint URL of %(name)s: %(reason)s", name=audience.name, reason=exc
                    )
                ) from None

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_sync(self):
        """Send the changes now (call tracking managers)."""
        self.check_access("write")
        if not self.env.user.has_group("call_tracking.call_tracking_group_manager"):
            raise AccessError(self.env._("Only Call Tracking administrators can sync audiences."))
        for audience in self:
            audience.sudo()._sync()
        return True

    @api.model
    def _cron_sync(self):
        for audience in self.search([("auto_sync", "=", True)]):
            audience._sync()

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _domain_eval_context(self):
        """What a saved segment may use, as Odoo's filters do: e.g.
        ``[('start_at', '>=', (context_today() - relativedelta(days=90))
        .strftime('%Y-%m-%d'))]`` for the last 90 days."""
        return {
            "datetime": safe_eval_datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
            "uid": self.env.uid,
        }

    def _get_source_records(self, limit=None):
        self.ensure_one()
        if self.source == "lead":
            domain = safe_eval(self.lead_domain or "[]", self._domain_eval_context())
            base = [
                ("company_id", "in", [self.company_id.id, False]),
                ("phone_sanitized", "!=", False),
            ]
            return (
                self.env["crm.lead"]
                .with_context(active_test=False)
                .search(base + domain, limit=limit)
            )
        domain = safe_eval(self.call_domain or "[]", self._domain_eval_context())
        base = [
            ("company_id", "=", self.company_id.id),
            ("caller_number", "!=", False),
            ("is_test", "=", False),
        ]
        return self.env["call.tracking.call"].search(base + domain, limit=limit)

    def _get_phone_numbers(self):
        """The E.164 numbers of the segment, blacklisted people left out."""
        self.ensure_one()
        records = self._get_source_records()
        if self.source == "lead":
            leads = records.filtered(
                lambda lead: not lead.phone_sanitized_blacklisted and not lead.is_blacklisted
            )
            numbers = set(leads.mapped("phone_sanitized"))
        else:
            numbers = {
                call.caller_number
                for call in records
                if not (call.lead_id and call.lead_id.is_blacklisted)
            }
        if numbers:
            blacklisted = (
                self.env["phone.blacklist"].sudo().search([("number", "in", list(numbers))])
            )
            numbers -= set(blacklisted.mapped("number"))
        return numbers

    def _sync(self):
        """Send the additions and removals since the last sync."""
        self.ensure_one()
        hasher = PHONE_HASHES[self.platform]
        current = {hasher(number) for number in self._get_phone_numbers()} - {""}
        sent = set(self.member_ids.mapped("phone_hash"))
        added, removed = current - sent, sent - current
        try:
            getattr(self, f"_sync_{self.platform}")(added, removed)
        except (outbound.OutboundError, UserError) as exc:
            message = exc.message if isinstance(exc, outbound.OutboundError) else str(exc)
            self.write({"last_error": message, "matched_count": len(current)})
            _logger.warning("audience %s: sync failed: %s", self.name, message)
            return False
        self.write(
            {
                "last_error": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_added": len(added),
                "last_sync_removed": len(removed),
                "matched_count": len(current),
            }
        )
        return True

    def _record_sent(self, added=(), removed=()):
        """Record what the platform accepted: called after each accepted
        request, so a later failure never makes the next sync send it twice."""
        self.env["call.tracking.audience.member"].create(
            [{"audience_id": self.id, "phone_hash": value} for value in added]
        )
        if removed:
            self.member_ids.filtered(lambda member: member.phone_hash in set(removed)).unlink()

    def _endpoint(self, default):
        return (self.sudo().endpoint_url or default).rstrip("/")

    def _token(self):
        token = self.sudo().access_token
        if not token:
            raise UserError(self.env._("Audience %s: set its access token first.", self.name))
        return token

    def _sync_google_ads(self, added, removed):
        """Two files to upload in Google Ads: the people added and the
        people removed since the last sync."""
        stamp = fields.Datetime.now().strftime("%Y%m%d-%H%M")
        self.write(
            {
                "added_csv": base64.b64encode(google_csv(added)),
                "added_csv_name": f"customer-match-{self.id}-added-{stamp}.csv",
                "removed_csv": base64.b64encode(google_csv(removed)),
                "removed_csv_name": f"customer-match-{self.id}-removed-{stamp}.csv",
            }
        )
        self._record_sent(added, removed)

    def _sync_meta(self, added, removed):
        """POST (add) and DELETE (remove) ``/{audience id}/users``, at most
        10,000 rows a request; a failed request stops the sync before
        anything is recorded as sent."""
        if not self.platform_audience_ref:
            raise UserError(self.env._("Audience %s: set the Meta Custom Audience ID.", self.name))
        token = self._token()
        url = f"{self._endpoint(META_ENDPOINT)}/{self.platform_audience_ref}/users"
        for method, hashes in (("POST", added), ("DELETE", removed)):
            for payload in meta_payloads(hashes):
                sent = [row[0] for row in payload["data"]]
                outbound.request(
                    self.env,
                    method,
                    url,
                    data={
                        "payload": json.dumps(payload, separators=(",", ":")),
                        "access_token": token,
                    },
                    secrets=(token,),
                )
                if method == "POST":
                    self._record_sent(added=sent)
                else:
                    self._record_sent(removed=sent)

    def _sync_yandex(self, added, removed):
        """The first sync creates the segment from a CSV file and saves it;
        later ones modify its data (addition, subtraction)."""
        token = self._token()
        base = self._endpoint(YANDEX_AUDIENCE_ENDPOINT)
        headers = {"Authorization": f"OAuth {token}"}
        if not self.platform_audience_ref:
            if not added:
                return
            answer = outbound.request(
                self.env,
                "POST",
                f"{base}/segments/upload_csv_file",
                files={"file": ("data.csv", yandex_csv(added), "text/csv")},
                headers=headers,
                secrets=(token,),
            ).json()
            segment_id = (answer.get("segment") or {}).get("id")
            if not segment_id:
                raise UserError(self.env._("Yandex Audiences answered without a segment ID."))
            outbound.request(
                self.env,
                "POST",
                f"{base}/segment/{segment_id}/confirm",
                params={"check_size": "false"},
                json={
                    "segment": {
                        "id": segment_id,
                        "name": self.name,
                        "hashed": True,
                        "hashing_alg": "SHA256",
                        "content_type": "crm",
                    }
                },
                headers=headers,
                secrets=(token,),
            )
            self.platform_audience_ref = str(segment_id)
            self._record_sent(added=added)
            return
        for kind, hashes in (("addition", added), ("subtraction", removed)):
            if hashes:
                outbound.request(
                    self.env,
                    "POST",
                    f"{base}/segment/{self.platform_audience_ref}/modify_data",
                    params={"modification_type": kind},
                    files={"file": ("data.csv", yandex_csv(hashes), "text/csv")},
                    headers=headers,
                    secrets=(token,),
                )
                if kind == "addition":
                    self._record_sent(added=hashes)
                else:
                    self._record_sent(removed=hashes)


class CallTrackingAudienceMember(models.Model):
    """A person an audience has sent to its platform, as the platform's own
    hash of their number: what the next sync compares with."""

    _name = "call.tracking.audience.member"
    _description = "Call Tracking Audience Member"
    _log_access = False

    audience_id = fields.Many2one(
        "call.tracking.audience", required=True, ondelete="cascade", index=True
    )
    phone_hash = fields.Char(required=True)

    _sql_constraints = [
        ("audience_hash_unique", "UNIQUE(audience_id, phone_hash)", "Sent once per audience."),
    ]
