from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models

from ..const import MAIL_QUEUE_DELAY


class CallTrackingCall(models.Model):
    """Notes: the call's end logged on its lead, the call-back activity
    of a missed call, and the mail queue woken for their emails."""

    _inherit = "call.tracking.call"

    def _post_call_message(self):
        """Log the call on its lead: status, duration and recording link."""
        self.ensure_one()
        status = dict(self._fields["status"]._description_selection(self.env)).get(self.status, "")
        minutes, seconds = divmod(self.duration or 0, 60)
        body = Markup("<p>%s</p><ul><li>%s %s</li><li>%s %s</li><li>%s %s</li>") % (
            self.env._("Phone call from %s", self.caller_number or self.env._("unknown caller")),
            self.env._("Status:"),
            status,
            self.env._("Duration:"),
            f"{minutes}:{seconds:02d}",
            self.env._("Channel:"),
            self.channel_id.name or "-",
        )
        recording_url = self._get_call_message_recording_url()
        if recording_url:
            body += Markup(
                '<li>%s <a href="%s" target="_blank" rel="noopener noreferrer">%s</a></li>'
            ) % (
                self.env._("Recording:"),
                recording_url,
                self.env._("listen"),
            )
        body += Markup("</ul>")
        self.lead_id._call_tracking_log_note(body)

    def _get_call_message_recording_url(self):
        """The recording link of the call's note on its lead (hook), or None."""
        self.ensure_one()
        if self.recording_url and self.recording_url.startswith(("https://", "http://")):
            return self.recording_url
        return None

    def _schedule_call_back(self):
        """A missed, busy or failed call: ask someone to call back, always."""
        self.ensure_one()
        lead = self.lead_id
        user = self._get_call_back_user()
        lead.with_context(mail_notify_force_send=False).activity_schedule(
            "mail.mail_activity_data_call",
            user_id=user.id,
            summary=self.env._("Call back %s", self.caller_number or self.env._("the caller")),
            note=self.env._(
                "Missed call (%(status)s) on %(number)s.",
                status=dict(self._fields["status"]._description_selection(self.env)).get(
                    self.status, self.status
                ),
                number=self.called_number or "-",
            ),
        )

    def _get_call_back_user(self):
        """Who calls back: the lead's salesperson, else the provider's, else
        the team leader, else a Call Tracking administrator of the company
        (else the superuser, who administers every company)."""
        self.ensure_one()
        lead = self.lead_id
        user = lead.user_id or self.provider_id.user_id or lead.team_id.user_id
        if user:
            return user
        manager_group = self.env.ref("call_tracking.call_tracking_group_manager")
        user = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("groups_id", "in", manager_group.ids),
                    ("company_ids", "in", self.company_id.ids),
                    ("share", "=", False),
                    ("id", "!=", SUPERUSER_ID),
                ],
                order="id",
                limit=1,
            )
        )
        return user or self.env["res.users"].browse(SUPERUSER_ID)

    @api.model
    def _wake_mail_queue(self):
        """Have the mail queue send the notification emails just queued
        (new lead to the team's followers, call-back activity) within a
        minute instead of at its hourly run; called when the webhook
        processing queues an email (``mail.mail``), so a call that notifies
        nobody by email triggers nothing. A trigger in the near future is
        picked up by the cron workers' regular poll: no wake-up NOTIFY per
        webhook request, and the emails of a burst of calls leave in one
        run."""
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "mail.ir_cron_mail_scheduler_action", raise_if_not_found=False
        )
        if cron_id:
            cron_sudo = self.env["ir.cron"].sudo().browse(cron_id)
            cron_sudo._trigger(fields.Datetime.now() + MAIL_QUEUE_DELAY)
