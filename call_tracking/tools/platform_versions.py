"""The API versions of the ad platforms the destinations call, with the end
of life each platform publishes, so that a retired version is noticed (a
warning on the destination, a failing test) before its requests fail.

Sources (read on 2026-12-05; update the table with each platform release):

* Meta: "Marketing API version history" (the Conversions API is part of the
  Marketing API and follows its versions),
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/versions
  ; the Graph API's own table (https://developers.facebook.com/docs/graph-api/changelog/versions/)
  gives later dates for the same versions: the earlier, Marketing API date counts.
* GA4 Measurement Protocol: ``/mp/collect`` carries no version in its URL
  and Google publishes no end of life for it.
* Yandex Metrica management API: ``/management/v1/``, no end of life
  published.
* Google Ads: the addon does not call the Google Ads API (Google fetches a
  CSV, see ``call_tracking_destination_google_ads.py``); the API's sunsets
  (v19 2026-02-11, v20 2026-06-10, v21 2026-08-05, v22 2026-10-07: Google
  Ads developer blog, "Google Ads API vNN sunset reminder") do not apply.
"""

import re
from datetime import date, timedelta

# the Meta version the addon calls by default
META_VERSION = "v26.0"

# kind -> {version: end of life (None: not announced yet)}
END_OF_LIFE = {
    "meta": {
        "v20.0": date(2025, 5, 6),
        "v21.0": date(2025, 9, 9),
        "v22.0": date(2026, 2, 19),
        "v23.0": date(2026, 6, 9),
        "v24.0": date(2026, 11, 10),
        "v25.0": date(2027, 2, 23),
        "v26.0": None,
        "v27.0": None,
    },
}
# how long before its end of life a version is warned about
WARN_BEFORE = timedelta(days=90)

_VERSION_RE = {"meta": re.compile(r"/(v\d+\.\d+)(?:/|$)")}


def version_in_url(kind, url):
    """The API version an endpoint URL of ``kind`` calls, or None (the kind
    is not versioned, or the URL names no version)."""
    pattern = _VERSION_RE.get(kind)
    match = pattern.search(url or "") if pattern else None
    return match.group(1) if match else None


def version_state(kind, url, today):
    """``(version, end of life, state)`` of the version an endpoint URL
    calls; state is ``expired`` (past its end of life), ``expiring``
    (within :data:`WARN_BEFORE`), ``unknown`` (a version the table does not
    know), ``ok``, or None when the kind or URL has no version."""
    version = version_in_url(kind, url)
    if not version:
        return None, None, None
    table = END_OF_LIFE.get(kind, {})
    if version not in table:
        return version, None, "unknown"
    end = table[version]
    if end is None:
        return version, None, "ok"
    if today >= end:
        return version, end, "expired"
    if today >= end - WARN_BEFORE:
        return version, end, "expiring"
    return version, end, "ok"
