import json

from odoo.tests import tagged

from ..controllers.call_tracking import MAX_BODY as MAX_NUMBER_BODY
from .common import CallTrackingHttpCommon


@tagged("post_install", "-at_install")
class TestNumberRouteLimits(CallTrackingHttpCommon):
    """The public number route has the same body limits as the webhook."""

    def _post(self, data, content_type="application/json"):
        return self.opener.post(
            self.base_url() + "/call_tracking/number",
            data=data,
            headers={"Content-Type": content_type},
            timeout=30,
        )

    def test_oversized_and_chunked_bodies_refused(self):
        response = self._post(json.dumps({"url": "https://x.example/?" + "a" * MAX_NUMBER_BODY}))
        self.assertEqual(response.status_code, 413)
        # without a Content-Type too (werkzeug's own limit needs one)
        raw = json.dumps({"url": "https://x.example/?" + "a" * MAX_NUMBER_BODY})
        self.assertEqual(self._post(raw, content_type=None).status_code, 413)

        def chunks():
            yield b'{"url": "https://x.example/?'
            for _chunk in range(MAX_NUMBER_BODY // 1024 + 8):
                yield b"a" * 1024
            yield b'"}'

        self.assertEqual(self._post(chunks()).status_code, 411)

    def test_deeply_nested_json_400(self):
        response = self._post(b'{"url": ' + b"[" * 5000 + b"]" * 5000 + b"}")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json(), {"error": "the body is nested too deeply"})
