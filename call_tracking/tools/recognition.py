"""Recognition of a page view's channel, as plain functions.

No database and no Odoo record here: the channel model reads its
configuration once into a :class:`TrackingSetup` (immutable, cached per
company) and the number assignment calls these functions with it. The same
functions serve the website's answer, the channel preview and any replay of
recorded traffic.
"""

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

# Referrer families a rule can name instead of listing domains. A host matches
# a domain when it equals it or is a subdomain of it; "google." style entries
# (ending with a dot) match any top-level domain (google.com, google.co.uk).
SEARCH_ENGINE_DOMAINS = (
    "google.",
    "bing.com",
    "yahoo.com",
    "duckduckgo.com",
    "yandex.",
    "ya.ru",
    "baidu.com",
    "ecosia.org",
    "search.brave.com",
    "qwant.com",
    "startpage.com",
    "naver.com",
    "seznam.cz",
)
SOCIAL_DOMAINS = (
    "facebook.com",
    "fb.com",
    "instagram.com",
    "l.instagram.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "lnkd.in",
    "pinterest.com",
    "reddit.com",
    "tiktok.com",
    "youtube.com",
    "vk.com",
    "ok.ru",
    "t.me",
    "telegram.org",
    "threads.net",
)
REFERRER_FAMILIES = MappingProxyType({"search": SEARCH_ENGINE_DOMAINS, "social": SOCIAL_DOMAINS})
# Landing parameters that mark a paid click even without UTM values.
CLICK_ID_PARAMS = ("gclid", "fbclid", "yclid", "gbraid", "wbraid")
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Facts of the arrival that make a "touch": a different value is a new touch.
TOUCH_FIELDS = UTM_PARAMS + CLICK_ID_PARAMS

_EMPTY = MappingProxyType({})


def split_values(text):
    """'Google, google-ads ' -> ('google', 'google-ads')"""
    return tuple(v.strip().lower() for v in (text or "").split(",") if v.strip())


def host_of(url):
    """Lower-case host of an URL (or of a bare domain), '' when unreadable."""
    if not url:
        return ""
    if "//" not in url:
        url = "//" + url
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def host_matches(host, domain):
    """``host`` is ``domain`` or one of its subdomains; a ``domain`` ending
    with a dot (``google.``) stands for any top-level domain."""
    if not host or not domain:
        return False
    if domain.endswith("."):
        label = domain[:-1]
        return host.startswith(label + ".") or ("." + label + ".") in host
    return host == domain or host.endswith("." + domain)


def parse_landing(url):
    """The landing URL's query parameters as a dict of lower-case names to
    their first non-empty value."""
    params = {}
    if not url:
        return params
    try:
        query = urlsplit(url).query
    except ValueError:
        return params
    for name, value in parse_qsl(query, keep_blank_values=True):
        name = name.lower()
        if name not in params or not params[name]:
            params[name] = value.strip()
    return params


# ----------------------------------------------------------------------
# Immutable values
# ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One recognition rule: every filled condition must hold."""

    utm_source: tuple = ()
    utm_medium: tuple = ()
    utm_campaign: tuple = ()
    domains: tuple = ()
    param: str = ""

    @classmethod
    def from_config(
        cls,
        utm_source=None,
        utm_medium=None,
        utm_campaign=None,
        referrer_domains=None,
        referrer_type=None,
        landing_param=None,
    ):
        """A rule from its configuration as typed by people (comma-separated,
        any case, a referrer family name)."""
        return cls(
            utm_source=split_values(utm_source),
            utm_medium=split_values(utm_medium),
            utm_campaign=split_values(utm_campaign),
            domains=split_values(referrer_domains) + REFERRER_FAMILIES.get(referrer_type, ()),
            param=(landing_param or "").strip().lower(),
        )

    @property
    def is_empty(self):
        return not (
            self.utm_source or self.utm_medium or self.utm_campaign or self.domains or self.param
        )

    def matches(self, touch):
        if self.is_empty:
            return False
        if self.utm_source and (touch.utm_source or "").lower() not in self.utm_source:
            return False
        if self.utm_medium and (touch.utm_medium or "").lower() not in self.utm_medium:
            return False
        if self.utm_campaign and (touch.utm_campaign or "").lower() not in self.utm_campaign:
            return False
        if self.param and not touch.params.get(self.param):
            return False
        return not self.domains or any(host_matches(touch.referrer_host, d) for d in self.domains)


@dataclass(frozen=True, slots=True)
class Channel:
    """What the number assignment needs to know about one channel.

    ``mode`` is ``static`` (its own ``number``), ``dynamic`` (a lease from
    ``pool_id`` for ``hold_minutes``) or ``default`` (neither configured:
    the ``fallback`` number). Displays are preformatted for the company."""

    id: int
    name: str = ""
    mode: str = "default"
    is_default: bool = False
    is_offline: bool = False
    number_id: int | bool = False
    number: str | bool = False
    display: str = ""
    pool_id: int | bool = False
    hold_minutes: int = 0
    fallback: str | bool = False
    fallback_display: str = ""
    rules: tuple = ()


@dataclass(frozen=True, slots=True)
class TrackingSetup:
    """A company's active channels in priority order (offline channels are
    known by id but never recognised on the website), its direct traffic
    channel, its default number, and how its pool numbers are displayed."""

    channels: tuple = ()
    by_id: MappingProxyType = field(default_factory=lambda: _EMPTY)
    default_channel_id: int | bool = False
    company_default: str | bool = False
    company_default_display: str = ""
    displays: MappingProxyType = field(default_factory=lambda: _EMPTY)

    @classmethod
    def build(cls, channels, company_default=False, company_default_display="", displays=None):
        """The setup of ``channels`` (every active channel, offline ones
        included, in priority order)."""
        channels = tuple(channels)
        default = next((c for c in channels if c.is_default and not c.is_offline), None)
        return cls(
            channels=tuple(c for c in channels if not c.is_offline),
            by_id=MappingProxyType({c.id: c for c in channels}),
            default_channel_id=default.id if default else False,
            company_default=company_default,
            company_default_display=company_default_display,
            displays=MappingProxyType(dict(displays or {})),
        )

    def channel(self, channel_id):
        """The channel of that id (offline included), or None."""
        return self.by_id.get(channel_id) if channel_id else None

    @property
    def default_channel(self):
        return self.channel(self.default_channel_id)

    def display_of(self, number):
        """How a pool number is shown (the number itself when unknown)."""
        return self.displays.get(number) or number or ""


class Touch(NamedTuple):
    """The marketing facts of a page view."""

    utm_source: str | bool = False
    utm_medium: str | bool = False
    utm_campaign: str | bool = False
    utm_term: str | bool = False
    utm_content: str | bool = False
    gclid: str | bool = False
    fbclid: str | bool = False
    yclid: str | bool = False
    gbraid: str | bool = False
    wbraid: str | bool = False
    referrer_host: str = ""
    is_arrival: bool = False
    params: MappingProxyType = _EMPTY

    def facts(self):
        """The touch fields (UTM values and click ids) as a dict."""
        return {name: getattr(self, name) for name in TOUCH_FIELDS}


class PreviousTouch(NamedTuple):
    """What the assignment remembers of a visitor's last session."""

    channel_id: int | bool
    facts: tuple  # values of TOUCH_FIELDS, in that order
    referrer: str | bool = False


# ----------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------


def parse_touch(url, referrer):
    """The :class:`Touch` of a page view: UTM values, click ids, landing
    parameters, the referrer's host when it is outside the site, and whether
    it is a new non-direct arrival (UTMs, a click id or an outside referrer)."""
    params = parse_landing(url)
    values = {name: params.get(name) or False for name in TOUCH_FIELDS}
    landing_host = host_of(url)
    referrer_host = host_of(referrer)
    external_referrer = bool(referrer_host) and not (
        landing_host
        and (host_matches(referrer_host, landing_host) or host_matches(landing_host, referrer_host))
    )
    return Touch(
        **values,
        referrer_host=referrer_host if external_referrer else "",
        is_arrival=external_referrer or any(values.values()),
        params=MappingProxyType(params),
    )


def match_channel(setup, touch):
    """The first channel of ``setup`` (by priority, then rule order) with a
    rule matching ``touch``, or None."""
    for channel in setup.channels:
        if any(rule.matches(touch) for rule in channel.rules):
            return channel
    return None


def recognise(setup, touch):
    """The channel of a page view: the matching channel, else the direct
    traffic channel, else None."""
    return match_channel(setup, touch) or setup.default_channel


class Choice(NamedTuple):
    """Where a page view goes: its ``channel`` (None: no channel at all),
    whether it continues the visitor's current touch (``same_touch``), and
    whether its own facts start a new touch (``new_touch``: a first visit,
    or a recognised non-direct arrival that differs from the last one)."""

    channel: Channel | None
    same_touch: bool
    new_touch: bool


def choose_channel(setup, touch, previous=None):
    """The channel a page view belongs to, and whether it continues the
    visitor's current touch.

    A new non-direct arrival that a rule recognises moves the visitor to its
    channel (the same touch when the channel, the UTM values, click ids and
    referrer host are all unchanged). Anything else (internal navigation, a
    direct return, an unrecognised referral) keeps the channel of the last
    non-direct touch; offline channels are never kept on the website.

    :param TrackingSetup setup:
    :param Touch touch:
    :param PreviousTouch previous: the visitor's last session, if any
    :rtype: Choice
    """
    matched = match_channel(setup, touch) if touch.is_arrival else None
    if previous is None:
        return Choice(matched or setup.default_channel, False, True)
    if matched:
        same = (
            previous.channel_id == matched.id
            and tuple(value or False for value in previous.facts)
            == tuple(getattr(touch, name) for name in TOUCH_FIELDS)
            and host_of(previous.referrer) == touch.referrer_host
        )
        return Choice(matched, same, not same)
    kept = setup.channel(previous.channel_id)
    if kept and kept.is_offline:
        kept = None
    channel = kept or setup.default_channel
    same = (channel.id if channel else False) == (previous.channel_id or False)
    return Choice(channel, same, False)
