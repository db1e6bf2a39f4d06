from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.sql import create_index

from ..tools.phone import example_caller


class CallTrackingNumber(models.Model):
    """One tracking phone number, stored in E.164."""

    _name = "call.tracking.number"
    _inherit = ["call.tracking.setup.mixin"]
    _description = "Call Tracking Number"
    _order = "pool_id, sequence, id"
    _rec_name = "number"
    _check_company_auto = True
    _rec_names_search = ["number", "name"]
    _tracking_setup_fields = frozenset(("number", "company_id", "active", "pool_id"))

    # looked up through the unique (number, company_id) index
    number = fields.Char(
        required=True,
        help="Stored in E.164 (+CCNNNN...). Written in any common format, it is "
        "normalised with the company's country as the default region.",
    )
    name = fields.Char(string="Label", help="Free label, e.g. 'Billboard A12'.")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    provider_id = fields.Many2one(
        "call.tracking.provider", index="btree_not_null", ondelete="restrict", check_company=True
    )
    pool_id = fields.Many2one(
        "call.tracking.pool", index="btree_not_null", ondelete="restrict", check_company=True
    )
    channel_ids = fields.One2many("call.tracking.channel", "number_id", string="Static Channels")
    # Current lease, maintained by the pool's assignment under a row lock.
    lease_session_id = fields.Many2one(
        "call.tracking.session",
        string="Current Lease",
        readonly=True,
        copy=False,
        groups="call_tracking.call_tracking_group_manager",
    )
    lease_expires_at = fields.Datetime(readonly=True, copy=False, index=True)
    last_released_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the last lease of this number ended: the free number idle the "
        "longest is leased first.",
    )
    number_display = fields.Char(
        string="Formatted Number",
        compute="_compute_number_display",
        help="The number as shown to people: national format for numbers of the "
        "company's country, international otherwise (see the settings).",
    )
    is_leased = fields.Boolean(
        string="Leased",
        compute="_compute_is_leased",
        search="_search_is_leased",
        help="A visitor currently holds this pool number.",
    )

    _sql_constraints = [
        (
            "number_company_uniq",
            "unique(number, company_id)",
            "A tracking number can only be registered once per company.",
        ),
    ]

    def init(self):
        res = super().init()
        # the free number idle the longest of a pool, read in order: a lease
        # walks this index from its start (free numbers sort before leased
        # ones) instead of sorting the whole pool
        create_index(
            self.env.cr,
            "call_tracking_number_idle_idx",
            self._table,
            ["pool_id", "(COALESCE(lease_expires_at, last_released_at)) NULLS FIRST", "id"],
            where="active AND pool_id IS NOT NULL",
        )
        return res

    @api.depends(
        "number",
        "company_id.country_id",
        "company_id.call_tracking_display_format",
    )
    def _compute_number_display(self):
        for record in self:
            record.number_display = self._format_display(record.number, record.company_id)

    @api.depends("lease_expires_at")
    def _compute_is_leased(self):
        now = fields.Datetime.now()
        for record in self:
            record.is_leased = bool(record.lease_expires_at and record.lease_expires_at > now)

    def _search_is_leased(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(
                self.env._("Leased numbers can only be searched with = or != and True or False.")
            )
        leased = (operator == "=") == value
        now = fields.Datetime.now()
        if leased:
            return [("lease_expires_at", ">", now)]
        return ["|", ("lease_expires_at", "=", False), ("lease_expires_at", "<=", now)]

    @api.depends("number_display", "name")
    def _compute_display_name(self):
        for record in self:
            display = record.number_display or record.number or ""
            record.display_name = f"{display} ({record.name})" if record.name else display

    @api.model_create_multi
    def create(self, vals_list):
        self._normalise_vals("number", vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if "number" in vals or "company_id" in vals:
            if len(self) > 1 and vals.get("number"):
                raise ValidationError(
                    self.env._("Several tracking numbers cannot get the same number.")
                )
            self._normalise_vals("number", [vals], records=self)
            if "company_id" in vals and not vals.get("number"):
                company = self.env["res.company"].browse(vals["company_id"])
                # a company of another country reads the stored E.164 the same
                for record in self:
                    self._normalise_number(record.number, company)
        return super().write(vals)

    def action_test_call(self):
        """Have this number called now through its provider's real webhook
        processing (signed as the provider signs), and open the call."""
        self.ensure_one()
        # whoever may read the number may test it (salespeople too)
        self.check_access("read")
        if not self.provider_id:
            raise UserError(
                self.env._(
                    "The number %s has no provider: choose the provider that reports its calls.",
                    self.display_name,
                )
            )
        call = self.provider_id._make_test_call(self, self._get_test_caller())
        return call.action_open_test_call()

    def _get_test_caller(self):
        """The caller of a test call: an example number of the company's
        country (from the phone number metadata), never a tracking number."""
        self.ensure_one()
        return example_caller(self.company_id.country_id.code)

    @api.model
    def _normalise_vals(self, fname, vals_list, records=None, label=None):
        """Normalise in place the phone number in ``fname`` of create or
        write values (``records``: those written), each read with the country
        of its record's company: its ``company_id`` value, else the written
        records' company, else the current company."""
        Company = self.env["res.company"]
        default = records.company_id[:1] if records else self.env.company
        companies = Company.browse([vals.get("company_id") or default.id for vals in vals_list])
        for vals, company in zip(vals_list, companies, strict=True):
            if vals.get(fname):
                vals[fname] = self._normalise_number(vals[fname], company, label=label)

    @api.model
    def _normalise_number(self, number, company, label=None, country=None):
        """``number`` in E.164 (phone_validation's ``_phone_format_number``),
        read with ``country`` (default: ``company``'s) as the default region;
        raises a ValidationError naming the number and the reason
        (phone_validation's message, which names the number) when it is not
        a valid phone number."""
        if not number:
            return number
        country = country or company.country_id or self.env.company.country_id
        try:
            return self._phone_format_number(
                number.strip(), country, force_format="E164", raise_exception=True
            )
        except UserError as exc:
            raise ValidationError(
                self.env._(
                    "%(label)s is not a valid phone number. %(reason)s",
                    label=label or self.env._("The tracking number"),
                    reason=str(exc.args[0]) if exc.args else number,
                )
            ) from exc

    @api.model
    def _format_display(self, number, company):
        """The E.164 ``number`` as shown to people, through
        ``phone_validation``: in national format for numbers of ``company``'s
        country when the company's setting is national, else international.
        An unreadable number is shown as it is."""
        if not number:
            return ""
        national = (company.call_tracking_display_format or "national") == "national"
        return (
            self._phone_format_number(
                number,
                company.country_id,
                force_format="NATIONAL" if national else "INTERNATIONAL",
            )
            or number
        )

    @api.model
    def _find_called(self, company, called_number):
        """``(the number of ``company`` called (archived ones too), whether
        ``called_number`` is a fallback number: a pool's or the company's
        default)``. A number is registered once per company."""
        if not called_number:
            return self.browse(), False
        number = self.with_context(active_test=False).search(
            [("company_id", "=", company.id), ("number", "=", called_number)], limit=1
        )
        is_default = company.sudo().call_tracking_default_number == called_number or bool(
            self.env["call.tracking.pool"]
            .with_context(active_test=False)
            .sudo()
            .search_count(
                [("company_id", "=", company.id), ("default_number", "=", called_number)],
                limit=1,
            )
        )
        return number, is_default
