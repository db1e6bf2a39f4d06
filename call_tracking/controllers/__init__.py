from . import call_tracking_webhook
