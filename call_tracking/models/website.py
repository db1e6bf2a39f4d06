import re
from types import MappingProxyType
from urllib.parse import urlsplit

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

DEFAULT_PORTS = {"http": 80, "https": 443}
# browsers keep a cookie at most 400 days (RFC 6265bis; Chrome enforces it)
MAX_COOKIE_DAYS = 400
MAX_ANTI_FLICKER_MS = 1000
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def origin_of(url):
    """'https://Shop.example.com:443/x' -> 'https://shop.example.com'; a bare
    domain is taken as https; '' when unreadable."""
    url = (url or "").strip()
    if not url:
        return ""
    if "//" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or scheme not in ("http", "https"):
        return ""
    if port and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


class Website(models.Model):
    _name = "website"
    _inherit = ["website", "call.tracking.setup.mixin"]
    _tracking_setup_fields = frozenset(
        (
            "call_tracking_cors_origins",
            "domain",
            "company_id",
            "call_tracking_cookie_days",
            "call_tracking_cookie_domain",
        )
    )

    call_tracking_cors_origins = fields.Text(
        string="Call Tracking Origins",
        help="Other sites allowed to ask this website's tracking numbers from "
        "the browser, one origin per line (e.g. https://shop.example.com). The "
        "website's own domain is always allowed.",
    )
    call_tracking_numbers = fields.Text(
        string="Other Company Numbers",
        help="More company numbers the website script replaces with the visitor's "
        "tracking number, one per line (e.g. a mobile line). The default tracking "
        "number and the company phone are always replaced.",
    )
    call_tracking_anti_flicker = fields.Boolean(
        string="Hide Numbers Until Swapped",
        help="Hide the page until the tracking number is in place or the timeout "
        "passes, so visitors never see the company number change.",
    )
    call_tracking_anti_flicker_ms = fields.Integer(
        string="Anti-Flicker Timeout (ms)",
        default=500,
        help="The page shows after this many milliseconds at the latest (at most 1000).",
    )
    call_tracking_cookie_days = fields.Integer(
        string="Visitor Cookie Lifetime (days)",
        default=365,
        help="Lifetime of the first-party cookie that keeps the visitor's key "
        "(at most 400 days, the browsers' limit).",
    )
    call_tracking_cookie_domain = fields.Char(
        string="Visitor Cookie Domain",
        help="A parent domain (e.g. example.com) to share the visitor's key, hence "
        "their number, across subdomains (www.example.com, shop.example.com). "
        "Empty: this website's host only.",
    )

    @api.constrains("call_tracking_numbers", "company_id")
    def _check_call_tracking_numbers(self):
        for website in self:
            for line in (website.call_tracking_numbers or "").splitlines():
                if line.strip():
                    # raises a ValidationError naming the number and the reason
                    self.env["call.tracking.number"]._normalise_number(
                        line.strip(),
                        website.company_id,
                        label=self.env._("The company number %s", line.strip()),
                    )

    @api.constrains("call_tracking_anti_flicker_ms")
    def _check_call_tracking_anti_flicker_ms(self):
        for website in self:
            if not 0 < website.call_tracking_anti_flicker_ms <= MAX_ANTI_FLICKER_MS:
                raise ValidationError(
                    self.env._("The anti-flicker timeout must be between 1 and 1000 ms.")
                )

    @api.constrains("call_tracking_cookie_days", "call_tracking_cookie_domain")
    def _check_call_tracking_cookie(self):
        for website in self:
            if not 0 < website.call_tracking_cookie_days <= MAX_COOKIE_DAYS:
                raise ValidationError(
                    self.env._("The visitor cookie lifetime must be between 1 and 400 days.")
                )
            domain = website.call_tracking_cookie_domain
            if domain and not HOSTNAME_RE.match(domain.strip().lstrip(".").lower()):
                raise ValidationError(
                    self.env._("%s is not a domain name (e.g. example.com).", domain)
                )

    def _call_tracking_page_numbers(self):
        """The company numbers the website script replaces, in E.164, the
        default tracking number first: it, the company phone as the website
        shows it, then the listed ones; unreadable ones are skipped."""
        self.ensure_one()
        company = self.company_id
        candidates = [company.call_tracking_default_number, company.phone]
        candidates += (self.call_tracking_numbers or "").splitlines()
        numbers = []
        for candidate in candidates:
            number = (candidate or "").strip() and self._phone_format_number(
                candidate.strip(), company.country_id, force_format="E164"
            )
            if number and number not in numbers:
                numbers.append(number)
        return numbers

    @api.model
    @tools.ormcache()
    def _call_tracking_get_setups(self):
        """{website id: (company id, allowed origins, visitor cookie lifetime
        in days, visitor cookie domain or "")} of every website: one cache
        entry for the whole database, cleared when a website is created,
        deleted or changed. The number endpoint checks a visitor's
        ``website_id`` against it, so an unknown id (any integer a client
        sends) adds nothing to the registry's shared cache."""
        websites_sudo = self.sudo().with_context(active_test=False).search([])
        setups = {}
        for website_sudo in websites_sudo:
            origins = {
                origin_of(line)
                for line in (website_sudo.call_tracking_cors_origins or "").splitlines()
            }
            if website_sudo.domain:
                origins.add(origin_of(website_sudo.domain))
            origins.discard("")
            domain = (website_sudo.call_tracking_cookie_domain or "").strip().lstrip(".").lower()
            setups[website_sudo.id] = (
                website_sudo.company_id.id,
                frozenset(origins),
                website_sudo.call_tracking_cookie_days or 365,
                domain,
            )
        return MappingProxyType(setups)

    @api.model
    def _call_tracking_get_setup(self, website_id):
        """(company id, allowed origins) of a website, or None when it does
        not exist; from the cached set of every website (no cache entry per
        asked id)."""
        setup = self._call_tracking_get_setups().get(website_id)
        return setup[:2] if setup else None

    @api.model
    def _call_tracking_get_cookie_setup(self, website_id):
        """(lifetime in days, domain or "") of the visitor cookie of a
        website; from the cached set of every website."""
        setup = self._call_tracking_get_setups().get(website_id)
        return setup[2:] if setup else (MAX_COOKIE_DAYS, "")

    @api.model
    @tools.ormcache()
    def _call_tracking_get_all_origins(self):
        """Origins allowed by any website, for CORS preflights (they carry no
        body, hence no website)."""
        origins = set()
        for setup in self._call_tracking_get_setups().values():
            origins |= setup[1]
        return frozenset(origins)
