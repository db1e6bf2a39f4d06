"""Zadarma's API request signature (pure functions).

Followed Zadarma's API documentation (https://zadarma.com/en/support/api/,
"Authorization") and its official client library
(https://github.com/zadarma/user-api-v1, ``lib/Client.php``): every request
carries ``Authorization: <user key>:<signature>``, where

* ``query`` is the request's parameters sorted by name, as a query string
  (RFC 1738: spaces as ``+``; ``format=json`` included when sent);
* ``method`` is the path from the API version, e.g. ``/v1/statistics/pbx/``;
* the signature is ``base64(hex(HMAC-SHA1(method + query + hex(md5(query)),
  secret)))``: the base64 of the *hexadecimal* digest, as the PHP client
  (``base64_encode(hash_hmac('sha1', ..., $secret))``) computes it.
"""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

API_URL = "https://api.zadarma.com"


def api_signature(secret, method, params):
    """The signature of a Zadarma API request of ``method`` (the path) with
    ``params`` (a dict of strings)."""
    query = urlencode(sorted(params.items()))
    data = method + query + hashlib.md5(query.encode(), usedforsecurity=False).hexdigest()
    hex_digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(hex_digest.encode()).decode()


def api_authorization(user_key, secret, method, params):
    """The ``Authorization`` header of a Zadarma API request."""
    return f"{user_key}:{api_signature(secret, method, params)}"
