"""Errors of the provider webhooks.

Models raise them; the webhook controller turns each into its HTTP answer
(``WebhookSignatureError``: 403, ``WebhookPayloadError``: 400,
``WebhookBodyTooLargeError``: 413, ``WebhookProcessingError``: 500), as
Odoo's payment providers leave the answer to their controllers. No model
decides a status code.
"""

from psycopg2 import errorcodes
from psycopg2.errors import SerializationFailure


class WebhookError(Exception):
    """A webhook request that cannot be accepted; ``reason`` is safe to
    show to the provider."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class WebhookSignatureError(WebhookError):
    """The request is not signed by the provider, or its signed values do
    not match the call they name (nothing is written but the inbox entry)."""


class WebhookPayloadError(WebhookError):
    """The body cannot be read as the provider's events."""


class WebhookBodyTooLargeError(WebhookError):
    """The body is larger than a webhook body can be."""


class WebhookProcessingError(WebhookError):
    """The events were read but applying them failed unexpectedly; the
    details stay in the inbox entry and the log."""


class ConcurrentCreation(SerializationFailure):
    """A record this request creates (a UTM source, medium or campaign of a
    visit) was created meanwhile by a concurrent request, committed after
    this transaction began and so invisible to it. Raised as PostgreSQL's
    serialization failure, so that Odoo retries the whole request in a new
    transaction (``odoo.service.model.retrying``), which then finds it."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


class WebhookConfirmationPending(WebhookProcessingError):
    """The provider's API, which must confirm the event, cannot be reached
    now: the inbox entry is kept awaiting confirmation and a cron retries;
    the event is neither dropped nor trusted unconfirmed. ``call_id`` is
    the provider's call id the entry waits for."""

    def __init__(self, reason, call_id=None):
        super().__init__(reason)
        self.call_id = call_id


class RecordingNotAudioError(WebhookError):
    """A recording whose bytes (or Content-Type) are not audio (answered 415)."""
