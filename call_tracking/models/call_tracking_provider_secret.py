from odoo import api, models
from odoo.exceptions import ValidationError

# The shortest signing secret a provider accepts: a guessable secret lets
# anyone forge calls. Providers' own secrets are longer (a Twilio Auth Token
# has 32 characters); a generic sender should use a random one of 32 or more.
MIN_SECRET_LENGTH = 16


class CallTrackingProvider(models.Model):
    _inherit = "call.tracking.provider"

    @api.constrains("secret")
    def _check_secret_length(self):
        for provider in self.sudo():
            secret = provider.secret or ""
            if secret and len(secret.strip()) < MIN_SECRET_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The signing secret of %(provider)s is too short. Minimum length: "
                        "%(min)s; length given: %(given)s. Use the secret the provider "
                        "gives you, or a random one for a generic sender.",
                        provider=provider.display_name,
                        min=MIN_SECRET_LENGTH,
                        given=len(secret.strip()),
                    )
                )
