from odoo import api, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    @api.model_create_multi
    def create(self, vals_list):
        mails = super().create(vals_list)
        # an email queued by the webhook processing (the context of
        # call.tracking.call._process_webhook_events): the queue runs soon
        if mails and self.env.context.get("call_tracking_mail_queue_soon"):
            self.env["call.tracking.call"]._wake_mail_queue()
        return mails
