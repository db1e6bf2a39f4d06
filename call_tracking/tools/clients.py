"""Who is asking for a number, as plain functions: automated clients,
the keyed hash of a client address, the device of a user agent, and what
is kept of a visited URL.

No database here. The number assignment calls these on its hot path, so
everything expensive is compiled once per process and the per-request work
is cached by user agent string (real traffic repeats a few hundred user
agents; a client sending random ones pays the full match, bounded by the
endpoint's length limit and the reverse proxy's rate limit).
"""

import functools
import hashlib
import hmac
import ipaddress
import re
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import crawleruseragents
from ua_parser import parse as ua_parse

# Automated clients the crawler list leaves out or may drop one day: HTTP
# libraries, headless browsers, browser automation, load and security
# testing tools. Our own list: lower-case, searched in the lower-cased user
# agent.
AUTOMATED_EXTRA = (
    r"headless",
    r"phantomjs",
    r"puppeteer",
    r"playwright",
    r"selenium",
    r"webdriver",
    r"cypress",
    r"^curl",
    r"libcurl",
    r"^wget",
    r"python-requests",
    r"python-urllib",
    r"python-httpx",
    r"^httpx",
    r"^httpie",
    r"aiohttp",
    r"go-http-client",
    r"okhttp",
    r"^java/",
    r"apache-httpclient",
    r"^axios",
    r"node-fetch",
    r"^undici",
    r"libwww-perl",
    r"^scrapy",
    r"^guzzlehttp",
    r"^ruby",
    r"^dart:io",
    r"^postmanruntime",
    r"^insomnia",
    r"windowspowershell",
    r"\bk6/",
    r"^locust",
    r"^zgrab",
    r"nmap scripting engine",
    r"^sqlmap",
    r"^nikto",
    r"^nuclei",
    # generic names of crawlers the list misses ("LarbinWebCrawler",
    # "BaiDuSpider", "ShowyouBot"); "bot" as a word's end, but not the
    # CUBOT phones
    r"crawl",
    r"spider",
    r"(?<!cu)bot\b",
)
# Patterns of the crawler list that also match real phones' browsers (found
# by the corpus of real user agents in tests/data/, see
# docs/developer/security-visitors-and-webhooks.rst): narrowed to the form
# the list's own examples (``instances``) show, the product token
# ``Name/version``, or dropped when the pattern is a phone firmware's build
# id. Each narrowed pattern still matches every instance the list gives
# for it (a test checks it on the installed list).
CRAWLER_NARROWED = MappingProxyType(
    {
        # HTC Butterfly phones; the crawler says "Butterfly/1.0"
        "Butterfly": r"Butterfly/",
        # ViewSonic tablets, "Lucky Ultra Sonic" phones; the crawlers say
        # "Sonic/1.0" and "RankSonicSiteAuditor/1.0"
        "Sonic": r"(?<![A-Za-z])Sonic/|RankSonic",
        # Opera Mini's build numbers ("Opera Mini/4.4.39008/37.9178")
        r"008\/": r"(?<![\w.])008/",
        # an Android 15 build of OPPO phones, in every browser of them
        r"AP3A\.240617\.008": None,
    }
)
# Marketing parameters a stored URL keeps (besides those the company's
# recognition rules name): UTM values and the ad platforms' click ids.
MARKETING_PARAMS = frozenset(
    ("gclid", "gbraid", "wbraid", "fbclid", "yclid", "msclkid", "dclid", "ttclid", "twclid")
)
MARKETING_PREFIXES = ("utm_",)
DEVICE_CLASSES = ("desktop", "mobile", "tablet", "other")
# How a user agent says it is a phone or a tablet, when the parser only names
# the device: the conventions of Android ("Mobile" marks phones), iOS and
# the common tablets.
_TABLET_RE = re.compile(r"ipad|tablet|kindle|silk/|playbook|sm-t\d|sm-x\d|\btab\b", re.IGNORECASE)
_MOBILE_RE = re.compile(r"mobi|iphone|ipod|android.*mobile|windows phone|opera mini", re.IGNORECASE)
USER_AGENT_CACHE = 4096


def crawler_patterns():
    """The crawler list's patterns as we apply them: as published, but
    those of :data:`CRAWLER_NARROWED` narrowed or dropped."""
    patterns = []
    for item in crawleruseragents.CRAWLER_USER_AGENTS_DATA:
        pattern = CRAWLER_NARROWED.get(item["pattern"], item["pattern"])
        if pattern:
            patterns.append(pattern)
    return patterns


# once per process, at import (the list has some 1,500 patterns). The
# crawler list is case-sensitive, as its authors define it (their
# ``is_crawler`` matches case-sensitively by default, and their validation
# states "contract: the patterns are case sensitive"): "Sonic" is a crawler,
# "Panasonic" and "HUAWEI SONIC" are phones. Our own list is matched in the
# lower-cased text.
_CRAWLER_RE = re.compile("|".join(crawler_patterns()))
_AUTOMATED_EXTRA_RE = re.compile("|".join(AUTOMATED_EXTRA))


@functools.lru_cache(maxsize=USER_AGENT_CACHE)
def is_automated(user_agent):
    """True for crawlers, ad bots, headless browsers, HTTP libraries and an
    empty user agent: clients that get no lease.

    :param str user_agent: the request's ``User-Agent`` (may be empty)
    """
    text = (user_agent or "").strip()
    if not text:
        return True
    return bool(_CRAWLER_RE.search(text) or _AUTOMATED_EXTRA_RE.search(text.lower()))


@functools.lru_cache(maxsize=USER_AGENT_CACHE)
def parse_device(user_agent):
    """``(device class, OS, browser)`` of a user agent, with ua-parser (the
    maintained regexes of uap-core). The device class is one of
    :data:`DEVICE_CLASSES`; OS and browser are their family names ("iOS",
    "Chrome Mobile"), False when unknown."""
    text = (user_agent or "").strip()
    if not text:
        return "other", False, False
    result = ua_parse(text)
    browser = result.user_agent.family if result.user_agent else False
    os_name = result.os.family if result.os else False
    device = result.device.family if result.device else ""
    brand = (result.device.brand or "") if result.device else ""
    lower = text.lower()
    if browser == "Other":
        browser = False
    if os_name == "Other":
        os_name = False
    if device == "Spider":
        device_class = "other"
    elif (
        _TABLET_RE.search(text)
        or "tablet" in brand.lower()
        # Android phones say "Mobile", Android tablets do not
        or ("android" in lower and "mobile" not in lower)
    ):
        device_class = "tablet"
    elif _MOBILE_RE.search(text) or os_name in ("iOS", "Android"):
        device_class = "mobile"
    elif os_name or browser:
        device_class = "desktop"
    else:
        device_class = "other"
    return device_class, os_name, browser


def client_hashes(secret, remote_addr):
    """``(address hash, subnet hash)`` of a client address: HMAC-SHA256 with
    the database's ``secret`` of the address and of its network (/24 for
    IPv4, /64 for IPv6), so equal addresses compare equal and the address
    itself is never stored. IPv4-mapped IPv6 addresses count as IPv4.

    :return: the two hex digests (32 characters each), or None when the
      address cannot be read (such a client cannot be told apart)
    """
    if not remote_addr or not isinstance(remote_addr, str) or len(remote_addr) > 64:
        return None
    try:
        address = ipaddress.ip_address(remote_addr.strip().split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    key = secret.encode() if isinstance(secret, str) else secret

    def digest(text):
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]

    return digest(f"a:{address}"), digest(f"n:{network}")


def client_site_hash(secret, remote_addr):
    """The keyed hash of an IPv6 client's site, its /48 (the usual
    allocation of one customer: 65,536 /64 networks), for the caps per
    site; None for an IPv4 client (its /24 is its network already) or an
    unreadable address. Same key and digest as :func:`client_hashes`."""
    if not remote_addr or not isinstance(remote_addr, str) or len(remote_addr) > 64:
        return None
    try:
        address = ipaddress.ip_address(remote_addr.strip().split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 4 or address.ipv4_mapped:
        return None
    site = ipaddress.ip_network(f"{address}/48", strict=False)
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"s:{site}".encode(), hashlib.sha256).hexdigest()[:32]


def scrub_url(url, keep=()):
    """What is stored of a landing page or referrer: scheme, host, path and
    only the marketing query parameters (``utm_*``, the ad click ids, and
    ``keep``: the landing parameters of the company's recognition rules), no
    fragment and no credentials. Access tokens, reset links' tokens, e-mail
    addresses in a query... are dropped.

    :return: the scrubbed URL, or False when nothing readable is left
    """
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return False
    keep = {k.lower() for k in keep or ()}
    params = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() in MARKETING_PARAMS
        or name.lower() in keep
        or name.lower().startswith(MARKETING_PREFIXES)
    ]
    netloc = host + (f":{port}" if port else "")
    if not (netloc or parts.path):
        return False
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, urlencode(params), ""))
