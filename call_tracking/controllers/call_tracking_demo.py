from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

# the demo's stand-in for a search engine results page (see README.rst)
SEARCH_PAGE = Markup("""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Search: boiler service</title>
<meta name="referrer" content="origin"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<p style="color: #666">Demo search engine: a click on the result below arrives
on the website with this page as referrer, as from a search engine.</p>
<h3><a id="result" href="%(url)s">Boiler service, New York: call us today</a></h3>
<p style="color: #060">%(url)s</p>
</body></html>""")


class CallTrackingDemoController(http.Controller):
    """Only with the module's demo data: a search results page to try the
    SEO channel's referrer recognition in a browser."""

    @http.route("/call_tracking/demo/search", type="http", auth="public", methods=["GET"])
    def call_tracking_demo_search(self, **_params):
        if not request.env.ref("call_tracking.demo_channel_seo_rule_local_search", False):
            raise NotFound()
        # the result is the same server under its other local name, so the
        # browser sees an outside referrer
        port = request.httprequest.host.rpartition(":")[2]
        host = "127.0.0.1" if request.httprequest.host.startswith("localhost") else "localhost"
        url = f"http://{host}:{port}/contactus" if port.isdigit() else "/contactus"
        return request.make_response(
            SEARCH_PAGE % {"url": escape(url)},
            headers=[("Content-Type", "text/html; charset=utf-8"), ("Referrer-Policy", "origin")],
        )
