from . import call_tracking
from . import call_tracking_webhook
from . import call_tracking_demo
from . import call_tracking_google_ads
from . import call_tracking_recording
