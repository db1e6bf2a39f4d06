from odoo import api, fields, models

STEPS = ("default", "numbers", "channels", "provider", "snippet", "test_call")


class CallTrackingSetup(models.TransientModel):
    """The setup checklist of the current company: what is done, with a link
    to the place of each step. The app opens on it while the company has no
    tracking number (``_action_open_home``)."""

    _name = "call.tracking.setup"
    _description = "Call Tracking Setup Checklist"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True
    )
    company_phone = fields.Char(related="company_id.phone")
    default_number = fields.Char(related="company_id.call_tracking_default_number")
    default_done = fields.Boolean(string="Default Number Set", compute="_compute_steps")
    numbers_done = fields.Boolean(string="Numbers Registered", compute="_compute_steps")
    number_count = fields.Integer(compute="_compute_steps")
    channels_done = fields.Boolean(string="Channels Ready", compute="_compute_steps")
    provider_done = fields.Boolean(string="Provider Connected", compute="_compute_steps")
    provider_id = fields.Many2one("call.tracking.provider", compute="_compute_steps")
    webhook_url = fields.Char(related="provider_id.webhook_url")
    snippet_done = fields.Boolean(string="Other Sites Allowed", compute="_compute_steps")
    snippet = fields.Text(string="Website Snippet", compute="_compute_snippet")
    test_call_done = fields.Boolean(string="Call Received", compute="_compute_steps")
    progress = fields.Integer(compute="_compute_steps")

    @api.depends("company_id")
    def _compute_steps(self):
        for setup in self:
            company_domain = [("company_id", "=", setup.company_id.id)]
            numbers = self.env["call.tracking.number"].search_count(company_domain)
            channels = self.env["call.tracking.channel"].search_count(
                [
                    *company_domain,
                    "|",
                    "&",
                    ("tracking_type", "=", "static"),
                    ("number_id", "!=", False),
                    "&",
                    ("tracking_type", "=", "dynamic"),
                    ("pool_id.number_ids", "!=", False),
                ],
                limit=1,
            )
            providers = self.env["call.tracking.provider"].search(company_domain, order="id")
            provider = providers.filtered("has_secret")[:1] or providers[:1]
            setup.update(
                {
                    "default_done": bool(setup.company_id.call_tracking_default_number),
                    "numbers_done": bool(numbers),
                    "number_count": numbers,
                    "channels_done": bool(channels),
                    "provider_id": provider.id,
                    "provider_done": bool(provider.has_secret and provider.number_ids),
                    "snippet_done": bool(
                        self.env["website"].search_count(
                            [*company_domain, ("call_tracking_cors_origins", "!=", False)],
                            limit=1,
                        )
                    ),
                    "test_call_done": bool(
                        self.env["call.tracking.call"].search_count(company_domain, limit=1)
                    ),
                }
            )
            setup.progress = sum(setup[f"{step}_done"] for step in STEPS)

    @api.depends("company_id")
    def _compute_snippet(self):
        website = self.env["website"].get_current_website()
        for setup in self:
            base = setup.company_id.get_base_url().rstrip("/")
            number = setup.company_id.call_tracking_default_number or "+10000000000"
            setup.snippet = (
                f'<script async\n        src="{base}/call_tracking/static/src/js/'
                f'call_tracking_core.js"\n        data-number="{number}"\n'
                f'        data-website-id="{website.id}"></script>'
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    @api.model
    def _action_open_home(self):
        """The app's home: the checklist for a Call Tracking administrator
        of a company without any tracking number, else the calls."""
        if self.env.user.has_group("call_tracking.call_tracking_group_manager") and not self.env[
            "call.tracking.number"
        ].with_context(active_test=False).search_count(
            [("company_id", "=", self.env.company.id)], limit=1
        ):
            return self.action_open_checklist()
        return self.env["ir.actions.act_window"]._for_xml_id(
            "call_tracking.call_tracking_call_action"
        )

    @api.model
    def action_open_checklist(self):
        self.check_access("create")
        setup = self.create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Set up Call Tracking"),
            "res_model": self._name,
            "res_id": setup.id,
            "view_mode": "form",
            "views": [(self.env.ref("call_tracking.call_tracking_setup_view_form").id, "form")],
            "target": "current",
        }

    @api.model
    def _open(self, xmlid, **values):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action.update(values)
        return action

    def action_use_company_phone(self):
        """Step 1 without typing the number again: the company phone becomes
        the default tracking number."""
        self.ensure_one()
        self.check_access("write")
        # narrow sudo: Call Tracking administrators set this one field of
        # their current company (the checklist's company rule), not others
        company_sudo = self.company_id.sudo()
        company_sudo.call_tracking_default_number = company_sudo.phone
        return self.action_open_checklist()

    def action_open_settings(self):
        self.check_access("read")
        return self._open("call_tracking.call_tracking_settings_action")

    def action_open_numbers(self):
        self.check_access("read")
        return self._open("call_tracking.call_tracking_number_action")

    def action_open_pools(self):
        self.check_access("read")
        return self._open("call_tracking.call_tracking_pool_action")

    def action_open_channels(self):
        self.check_access("read")
        return self._open("call_tracking.call_tracking_channel_action")

    def action_open_providers(self):
        self.ensure_one()
        self.check_access("read")
        if self.provider_id:
            return self._open(
                "call_tracking.call_tracking_provider_action",
                res_id=self.provider_id.id,
                view_mode="form",
                views=[(False, "form")],
            )
        return self._open("call_tracking.call_tracking_provider_action")

    def action_open_calls(self):
        self.check_access("read")
        return self._open("call_tracking.call_tracking_call_action")

    def action_test_call(self):
        """Step 6: a test call to the first number that has a provider."""
        self.ensure_one()
        self.check_access("write")
        number = self.env["call.tracking.number"].search(
            [("company_id", "=", self.company_id.id), ("provider_id", "!=", False)],
            order="pool_id, sequence, id",
            limit=1,
        )
        if not number:
            return self.action_open_numbers()
        return number.action_test_call()
