"""The README's screenshots, taken by Chromium over the demo data: run with
`make screenshots` (tag ``call_tracking_screenshots``; never part of the
standard run). They are written to ``static/description/screenshots/`` as
PNG with a reduced palette, so they stay small; the ones in the users'
languages (the settings with their default values and the Call Analysis in
Ukrainian, a call-lead in Russian) go to the guide's ``docs/images/``."""

import base64
import io
import json
import logging
from pathlib import Path
from unittest.mock import patch

from PIL import Image

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .common import BROWSER_UA

_logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1280, 800
GOOGLE_ADS = "/contactus?utm_source=google&utm_medium=cpc&gclid=screenshot"
# the name a call's lead gets (call_tracking_call.py, _prepare_lead_values)
LEAD_NAME = "Call from %(caller)s via %(channel)s"

# Waits for `ready` (a CSS selector), clicks `click` (selectors, in order,
# each awaited), waits for `then`, lets the page settle, then signals
STEPS_JS = """
(async () => {
    const steps = %s;
    const wait = async (selector) => {
        for (let i = 0; i < 200; i++) {
            const element = document.querySelector(selector);
            if (element) {
                return element;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("not found: " + selector);
    };
    await wait(steps.ready);
    for (const selector of steps.click) {
        (await wait(selector)).click();
    }
    if (steps.then) {
        await wait(steps.then);
    }
    // no "Loading" badge of the web client in the picture
    for (let i = 0; i < 100 && document.querySelector(".o_loading_indicator"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    console.log("test successful");
})();
"""


@tagged("post_install", "-at_install", "-standard", "call_tracking_screenshots")
class TestScreenshots(HttpCase):
    browser_size = f"{WIDTH},{HEIGHT}"

    def setUp(self):
        super().setUp()
        if not self.env.ref("call_tracking.demo_header_phone", raise_if_not_found=False):
            self.skipTest("the screenshots show the demo data")
        self.out = Path(get_module_path("call_tracking")) / "static" / "description" / "screenshots"
        self.out.mkdir(parents=True, exist_ok=True)

    def _shoot(self, name, url, ready, click=(), then=None, login="admin", height=HEIGHT, out=None):
        self.browser_size = f"{WIDTH},{height}"
        shots = []
        wait_code_ok = ChromeBrowser._wait_code_ok

        def wait_then_capture(browser, code, timeout, error_checker=None):
            wait_code_ok(browser, code, timeout, error_checker=error_checker)
            shots.append(
                browser._websocket_request(
                    "Page.captureScreenshot", params={"format": "png"}, timeout=30
                )["data"]
            )

        def navigate(browser, target, wait_stop=False):
            # a visitor's browser: headless Chrome's own user agent is refused
            # a lease as an automated client
            browser._websocket_request(
                "Emulation.setUserAgentOverride", params={"userAgent": BROWSER_UA}
            )
            # the first rendering of a page can be slow on a loaded machine
            browser._websocket_request("Page.navigate", params={"url": target}, timeout=90.0)

        steps = {"ready": ready, "click": list(click), "then": then}
        with (
            patch.object(ChromeBrowser, "_wait_code_ok", wait_then_capture),
            patch.object(ChromeBrowser, "navigate_to", navigate),
        ):
            self.browser_js(
                url,
                STEPS_JS % json.dumps(steps),
                ready="document.readyState === 'complete' && location.href !== 'about:blank'",
                login=login,
                timeout=90,
            )
        image = Image.open(io.BytesIO(base64.b64decode(shots[0]))).convert("RGB")
        image = image.quantize(colors=96 if out is None else 64, method=Image.Quantize.MEDIANCUT)
        path = (out or self.out) / f"{name}.png"
        image.save(path, optimize=True)
        _logger.info("screenshot %s: %s bytes", path, path.stat().st_size)

    def test_screenshots(self):
        company = self.env.ref("base.main_company")
        # before: the website without call tracking (no default number)
        default_number = company.call_tracking_default_number
        company.call_tracking_default_number = False
        contact = ".o_call_tracking_demo_contact_phone"
        self._shoot("website_before", "/contactus", contact, login=None)
        company.call_tracking_default_number = default_number
        # after: a Google Ads visitor sees a pool number
        self._shoot(
            "website_after",
            GOOGLE_ADS,
            # a pool number: +1 212-555-0161 to 0170
            ".o_call_tracking_demo_contact_phone :is(a[href^='tel:+1212555016'],"
            " a[href='tel:+12125550170'])",
            login=None,
        )
        self._shoot(
            "call_analysis_pivot",
            "/odoo/action-call_tracking.call_tracking_call_report_action",
            ".o_control_panel",
            click=[".o_switch_view.o_pivot"],
            then=".o_pivot table",
        )
        self._shoot(
            "call_analysis_graph",
            "/odoo/action-call_tracking.call_tracking_call_report_action",
            ".o_control_panel",
            click=[".o_switch_view.o_graph"],
            then=".o_graph_renderer canvas",
        )
        lead = (
            self.env["call.tracking.call"]
            .search(
                [("provider_call_id", "=like", "demo-call-%"), ("quality", "=", "targeted")],
                order="start_at desc",
                limit=1,
            )
            .lead_id
        )
        self._shoot(
            "lead_calls",
            f"/odoo/action-crm.crm_lead_all_leads/{lead.id}",
            ".o_form_view",
            click=["a[name='call_tracking_calls']"],
            then=".o_field_one2many[name='call_ids'] .o_data_row",
        )
        pool = self.env.ref("call_tracking.demo_pool_paid")
        self._shoot(
            "pool_health",
            f"/odoo/action-call_tracking.call_tracking_pool_action/{pool.id}",
            ".o_form_view",
            click=["a[name='health']"],
            height=1000,
        )

    def _answered_call(self):
        return self.env["call.tracking.call"].search(
            [
                ("provider_call_id", "=like", "demo-call-%"),
                ("quality", "=", "targeted"),
                ("status", "=", "answered"),
            ],
            order="start_at desc",
            limit=1,
        )

    def _speak(self, lang):
        """Load the language's terms of every installed module and give the
        admin user that language (the test's transaction is rolled back)."""
        self.env["res.lang"]._activate_lang(lang)
        modules = self.env["ir.module.module"].search([("state", "=", "installed")])
        modules._load_module_terms(modules.mapped("name"), [lang], overwrite=True)
        self.env.ref("base.user_admin").lang = lang

    def test_screenshots_languages(self):
        """The guide's screenshots in Ukrainian and Russian (docs/images/)."""
        out = Path(get_module_path("call_tracking")).parent / "docs" / "images"
        if not out.parent.is_dir():
            self.skipTest(f"{out.parent} is not here (the module was installed without its repo)")
        out.mkdir(exist_ok=True)
        # the settings with their default values: the company's call tracking
        # settings and the website's back to their fields' defaults
        company = self.env.ref("base.main_company")
        for record in (company, self.env["website"].search([("company_id", "=", company.id)])):
            defaults = {
                name: field.default(record)
                for name, field in record._fields.items()
                if name.startswith("call_tracking_") and field.default and field.store
            }
            record.write(defaults)
        self._speak("uk_UA")
        self._shoot(
            "settings_uk",
            "/odoo/action-call_tracking.call_tracking_settings_action",
            ".app_settings_block[data-key='call_tracking'] .o_field_widget"
            "[name='call_tracking_spam_repeat_count']",
            height=2300,
            out=out,
        )
        self._shoot(
            "call_analysis_uk",
            "/odoo/action-call_tracking.call_tracking_call_report_action",
            ".o_control_panel",
            click=[".o_switch_view.o_pivot"],
            then=".o_pivot table",
            out=out,
        )
        self._speak("ru_RU")
        call = self._answered_call()
        # the demo leads were named in English at install; a company that
        # speaks Russian gets the name in Russian
        # (not a `_()` call: the exporter would list this test as a source)
        translate = self.env["crm.lead"].with_context(lang="ru_RU").env._
        call.lead_id.name = translate(
            LEAD_NAME, caller=call.caller_number, channel=call.channel_id.name
        )
        self._shoot(
            "lead_ru",
            f"/odoo/action-crm.crm_lead_all_leads/{call.lead_id.id}",
            ".o_form_view",
            click=["a[name='call_tracking_calls']"],
            then=".o_field_one2many[name='call_ids'] .o_data_row",
            out=out,
        )
