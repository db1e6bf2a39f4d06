from urllib.parse import urlsplit

from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def get_utm_domain_cookies(cls):
        """No cookie domain for a host without a dot (``localhost``, an
        intranet name, an IPv6 literal): the utm module's cookies
        (``odoo_utm_*``, set on any page with ``utm_source=...``) would get
        the request's host as their domain, which werkzeug refuses for such
        hosts (a ValueError, hence a 500 on ``http://localhost:8069/?utm_source=x``)
        and browsers ignore. Without a domain, the cookie is the host's own."""
        domain = super().get_utm_domain_cookies()
        try:
            hostname = urlsplit("//" + (domain or "")).hostname or ""
        except ValueError:
            return None
        if "." not in hostname:
            return None
        return domain
