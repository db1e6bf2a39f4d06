from datetime import UTC, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.conversions import google_ads_csv

# Google Ads accepts click conversions up to 90 days after the click
GOOGLE_ADS_MAX_AGE = timedelta(days=90)
GOOGLE_ADS_ROUTE = "/call_tracking/google_ads/%s/conversions.csv"
# the prefix of the password hashes passlib's pbkdf2_sha512 makes
HASH_PREFIX = "$pbkdf2-sha512$"


class CallTrackingDestinationGoogleAds(models.Model):
    """Google Ads offline click conversions (Google Ads help, "Import
    conversions from ad clicks into Google Ads", scheduled uploads from an
    HTTPS URL): Google fetches a CSV in its template from
    :data:`GOOGLE_ADS_ROUTE`, protected by HTTP basic credentials (the
    destination's account and credential). Nothing is pushed: Google's
    call-conversion import only accepts calls through Google forwarding
    numbers, so calls are reported as conversions of the ad click.

    The password is only verified, so it is stored as a passlib hash, with
    the context Odoo hashes its users' passwords with
    (``res.users._crypt_context``)."""

    _inherit = "call.tracking.destination"

    kind = fields.Selection(
        selection_add=[("google_ads", "Google Ads offline click conversions")],
        ondelete={"google_ads": "cascade"},
    )
    google_ads_url = fields.Char(
        string="CSV URL",
        compute="_compute_google_ads_url",
        help="Give this URL, the account and the credential to Google Ads "
        "(Goals > Conversions > Uploads > Schedules > HTTPS).",
    )

    def init(self):
        res = super().init()
        # at install and update: passwords stored in clear by an earlier
        # version are hashed
        self.sudo().search([("kind", "=", "google_ads")])._google_ads_hash_password()
        return res

    @api.model_create_multi
    def create(self, vals_list):
        destinations = super().create(vals_list)
        destinations._google_ads_hash_password()
        return destinations

    def write(self, vals):
        res = super().write(vals)
        if {"kind", "secret", "secret_input"} & set(vals):
            self._google_ads_hash_password()
        return res

    def _google_ads_hash_password(self):
        """Replace a Google Ads password stored in clear by its hash (after
        its length was checked by ``_check_credentials``)."""
        crypt = self.env["res.users"]._crypt_context()
        for destination_sudo in self.sudo().filtered(lambda d: d.kind == "google_ads"):
            secret = destination_sudo.secret
            if secret and not secret.startswith(HASH_PREFIX):
                destination_sudo.secret = crypt.hash(secret)

    def _google_ads_check_password(self, password):
        """Whether ``password`` is the CSV URL's password (in constant time;
        a password still stored in clear is verified, then hashed)."""
        self.ensure_one()
        destination_sudo = self.sudo()
        if not destination_sudo.secret or not password:
            return False
        crypt = self.env["res.users"]._crypt_context()
        stored = destination_sudo.secret
        valid, replacement = crypt.verify_and_update(password, stored)
        if valid and (replacement or not stored.startswith(HASH_PREFIX)):
            destination_sudo.secret = replacement or crypt.hash(password)
        return valid

    def _compute_google_ads_url(self):
        for destination in self:
            destination.google_ads_url = (
                destination.get_base_url() + GOOGLE_ADS_ROUTE % destination.id
                if destination.kind == "google_ads" and destination.id
                else False
            )

    def _check_credentials(self, require_secret=True):
        if self.kind != "google_ads":
            return super()._check_credentials(require_secret)
        user = self.account_ref or ""
        if not user or ":" in user or len(user) > 64:
            raise ValidationError(
                self.env._(
                    "User name of %s: it is required (the user name Google Ads "
                    "sends for the CSV URL) and may not contain ':'.",
                    self.name,
                )
            )
        if self.secret and len(self.secret) < 12:
            raise ValidationError(
                self.env._("Password of %s: use at least 12 characters.", self.name)
            )
        if require_secret and not self.secret:
            raise ValidationError(
                self.env._(
                    "Password of %s: it is missing (Google sends it for the CSV URL).", self.name
                )
            )
        return None

    def _max_event_age(self):
        if self.kind != "google_ads":
            return super()._max_event_age()
        return GOOGLE_ADS_MAX_AGE

    def _prepare_conversion(self, call, trigger, value, event_time):
        if self.kind != "google_ads":
            return super()._prepare_conversion(call, trigger, value, event_time)
        session = call.session_id
        for name in ("gclid", "gbraid", "wbraid"):
            if session[name]:
                return {"click_id": session[name], "click_id_type": name}, None
        return None, self.env._("The visit has no Google click id (gclid, gbraid or wbraid).")

    def _send_conversions(self, conversions):
        if self.kind != "google_ads":
            return super()._send_conversions(conversions)
        # Google fetches them (see _google_ads_csv): nothing to push
        conversions.next_try_at = False
        return None

    def _google_ads_csv(self, mark_fetched=True, now=None):
        """The CSV of the destination's conversions of the last 90 days
        (pending and already fetched: Google ignores a conversion it has,
        by click id, conversion name and time); pending ones become sent."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        conversions = self.env["call.tracking.conversion"].search(
            [
                ("destination_id", "=", self.id),
                ("state", "in", ("pending", "sent")),
                ("event_time", ">=", now - GOOGLE_ADS_MAX_AGE),
            ],
            order="event_time, id",
        )
        tz = pytz.timezone(self.timezone or "UTC")
        rows = []
        for conversion in conversions:
            payload = conversion._payload()
            when = conversion.event_time.replace(tzinfo=UTC).astimezone(tz)
            rows.append(
                (
                    payload.get("click_id"),
                    self.conversion_name,
                    when,
                    conversion.value or None,
                    conversion.currency_id.name,
                )
            )
        if mark_fetched:
            pending = conversions.filtered(lambda c: c.state == "pending")
            if pending:
                pending._mark_sent(self.env._("Fetched by Google Ads at %s (UTC).", now))
        return google_ads_csv(self.timezone or "UTC", rows)

    def _send_test_event(self):
        if self.kind != "google_ads":
            return super()._send_test_event()
        csv_text = self._google_ads_csv(mark_fetched=False)
        lines = csv_text.count("\n") - 2
        return self.env._(
            "Google Ads fetches %(url)s with these credentials; "
            "conversions it now holds: %(count)s.\n%(head)s",
            url=self.google_ads_url,
            count=lines,
            head="\n".join(csv_text.splitlines()[:5]),
        )

    def action_download_google_ads_csv(self):
        """Download the CSV by hand (for a manual upload in Google Ads): a
        read of the conversions, which stay as they are (only Google's fetch
        marks them sent)."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_url",
            "url": GOOGLE_ADS_ROUTE % self.id,
            "target": "self",
        }
