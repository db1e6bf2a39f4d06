"""Constants that models, tools and controllers share.

The webhook event contract
--------------------------
A provider's request is parsed (``call.tracking.provider._parse_webhook_events``)
into a list of normalised events, applied by
``call.tracking.call._process_webhook_events``. An event is a dict:

``event``
    one of :data:`EVENT_TYPES`;
``call_id``
    the provider's id of the call (required);
``from``, ``to``
    the caller's and the called numbers, as the provider sent them;
``start``, ``answer``, ``end``
    naive UTC datetimes;
``duration``, ``talk_duration``
    seconds;
``status``
    a key of :data:`CALL_STATUS` (an end without one is answered when it has
    a talk time or an answer time, else missed);
``recording_url``
    an http(s) URL (anything else is dropped);
``signed_key``
    the values the provider signs for the call when it does not sign its call
    id (Zadarma): events of one call must carry the same.

Only ``event`` and ``call_id`` are required; a missing key changes nothing.
"""

from datetime import timedelta

EVENT_TYPES = ("call_start", "call_update", "call_end")

CALL_STATUS = [
    ("in_progress", "In Progress"),
    ("answered", "Answered"),
    ("missed", "Missed"),
    ("busy", "Busy"),
    ("failed", "Failed"),
    ("voicemail", "Voicemail"),
]
# a call in one of these has ended: its end is logged on the lead
FINAL_STATUSES = frozenset(("answered", "missed", "busy", "failed", "voicemail"))
# an ended call in one of these gets a call-back activity
CALL_BACK_STATUSES = frozenset(("missed", "busy", "failed"))

ATTRIBUTION_METHODS = [
    ("session", "Dynamic: live session"),
    ("session_expired", "Dynamic: last session (lease lapsed)"),
    ("session_late", "Dynamic: too long after the lease"),
    ("static", "Static channel"),
    ("default", "Default number"),
    ("unknown", "Unknown number"),
]
SPAM_REASONS = [
    ("blocklist", "Blocked caller"),
    ("repeat", "Repeated short calls"),
    ("no_caller_id", "No caller ID"),
]
DEVICE_CLASS_SELECTION = [
    ("desktop", "Desktop"),
    ("mobile", "Mobile"),
    ("tablet", "Tablet"),
    ("other", "Other"),
]

# the unique constraint of a provider's call id (call.tracking.call)
CALL_ID_CONSTRAINT = "call_tracking_call_provider_call_uniq"
# the unique constraint of a provider's signed values (call.tracking.call)
SIGNED_KEY_CONSTRAINT = "call_tracking_call_provider_signed_key_uniq"

# earlier holders of a number weighed against the attributed session
CONFIDENCE_HOLDERS = 20
# live-lease calls the delay model is learned from (the latest ones)
DELAY_MODEL_CALLS = 2000
# notification emails queued by the webhook leave with the next cron poll
MAIL_QUEUE_DELAY = timedelta(seconds=1)

# The largest webhook body accepted (the route's max_content_length).
MAX_BODY_BYTES = 256 * 1024
# What is kept of the body of a request refused for its signature.
REJECTED_BODY_BYTES = 4 * 1024

# the ad platforms' cookies the website script may send (all optional)
VISIT_ID_FIELDS = ("ga_session_id", "ym_uid", "fbp", "fbc")
# The website remembers a static or default visitor (their channel and the
# number shown) for this long after their last page view.
VISIT_WINDOW_MINUTES = 30
