from urllib.parse import urlsplit

from odoo import api, fields, models, tools

DEFAULT_PORTS = {"http": 80, "https": 443}


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
    _tracking_setup_fields = frozenset(("call_tracking_cors_origins", "domain", "company_id"))

    call_tracking_cors_origins = fields.Text(
        string="Call Tracking Origins",
        help="Other sites allowed to ask this website's tracking numbers from "
        "the browser, one origin per line (e.g. https://shop.example.com). The "
        "website's own domain is always allowed.",
    )

    @api.model
    @tools.ormcache("website_id")
    def _call_tracking_get_setup(self, website_id):
        """(company id, allowed origins) of a website, or None when it does
        not exist; cached, cleared when the website changes."""
        website_sudo = self.sudo().browse(website_id).exists()
        if not website_sudo:
            return None
        origins = {
            origin_of(line) for line in (website_sudo.call_tracking_cors_origins or "").splitlines()
        }
        if website_sudo.domain:
            origins.add(origin_of(website_sudo.domain))
        origins.discard("")
        return website_sudo.company_id.id, frozenset(origins)

    @api.model
    @tools.ormcache()
    def _call_tracking_get_all_origins(self):
        """Origins allowed by any website, for CORS preflights (they carry no
        body, hence no website)."""
        origins = set()
        for website_id in self.sudo().search([]).ids:
            origins |= self._call_tracking_get_setup(website_id)[1]
        return frozenset(origins)
