"""Callers as ad audiences: each platform's normalisation and hashing of a
phone number, and its upload formats, as plain functions.

* Google Ads Customer Match (Google Ads help 7476159, "Formatting
  guidelines for uploading hashed data"): a CSV with the English header
  ``Phone``; a number in E.164 **with** its ``+`` before hashing; SHA-256,
  lower-case hex.
* Meta Custom Audiences (Marketing API, "Custom Audience Users" and
  "Hashing and Normalizing Data"): schema ``PHONE``; digits only with the
  country code, **no** ``+`` and no leading zeros; SHA-256; at most 10,000
  rows per request.
* Yandex Audiences (Audience API ``segments/upload_csv_file``,
  ``segment/{id}/confirm``, ``segment/{id}/modify_data``, and the support
  page "File requirements", CRM data): a CSV with the header ``phone``; the
  number as digits with the country code; SHA-256 (MD5 no longer accepted
  for new data since January 2025).

Every platform needs at least 100 matched people before it serves ads to a
list (Google's and Meta's minimum audience size, Yandex's 100 records).
"""

import csv
import hashlib
import io
import re

MIN_AUDIENCE_SIZE = 100
META_BATCH = 10000

_NOT_DIGIT = re.compile(r"\D")


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def google_phone_hash(e164):
    """Customer Match: SHA-256 of the E.164 number with its ``+``."""
    digits = _NOT_DIGIT.sub("", e164 or "")
    return _sha256(f"+{digits}") if digits else ""


def meta_phone_hash(e164):
    """Custom Audiences: SHA-256 of the digits with the country code, no
    ``+``, no leading zeros."""
    digits = _NOT_DIGIT.sub("", e164 or "").lstrip("0")
    return _sha256(digits) if digits else ""


def yandex_phone_hash(e164):
    """Yandex Audiences: SHA-256 of the digits with the country code."""
    digits = _NOT_DIGIT.sub("", e164 or "")
    return _sha256(digits) if digits else ""


PHONE_HASHES = {
    "google_ads": google_phone_hash,
    "meta": meta_phone_hash,
    "yandex": yandex_phone_hash,
}


def hashed_csv(header, hashes):
    """A one-column CSV of ``hashes`` under ``header`` (bytes, UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header])
    for value in sorted(hashes):
        writer.writerow([value])
    return buffer.getvalue().encode()


def google_csv(hashes):
    return hashed_csv("Phone", hashes)


def yandex_csv(hashes):
    return hashed_csv("phone", hashes)


def meta_payloads(hashes, batch=META_BATCH):
    """The ``payload`` of each Custom Audience Users request: at most
    ``batch`` rows each."""
    ordered = sorted(hashes)
    for start in range(0, len(ordered), batch):
        rows = [[value] for value in ordered[start : start + batch]]
        yield {"schema": ["PHONE"], "data": rows}
