#!/usr/bin/env python3
"""Open the links `make demo` prints in a real, fresh Chromium each (headless,
Debian's /usr/bin/chromium) against a running demo server, and print the
number the contact page shows (text and tel: link) for each.

    DEMO_PORT=8069 .venv/bin/python scripts/check_demo_links.py

The organic search link is a page whose result is clicked, as a visitor
would. Exit 1 when a page shows no number or two links show the same one.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo import demo_links

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # as a person's browser: headless Chrome's own user agent ("HeadlessChrome")
    # is refused a lease as an automated client, as crawlers are
    (
        "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Safari/537.36"
    ),
]
READ_JS = """(() => {
    const link = document.querySelector(".o_call_tracking_demo_contact_phone a");
    return link ? JSON.stringify([location.href, link.textContent.trim(), link.getAttribute("href"),
                                  navigator.userAgent]) : "";
})()"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tab:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression)["result"].get("value")


def visit(url, click=None, wait=8.0):
    """What a fresh browser shows on the contact page after opening ``url``
    (and clicking ``click``): (final URL, text, href, user agent)."""
    profile = tempfile.mkdtemp(prefix="ct_demo_chromium_")
    port = free_port()
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}",
         "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                tabs = json.load(urlopen(f"http://127.0.0.1:{port}/json", timeout=2))
                page = next(t for t in tabs if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        tab = Tab(page["webSocketDebuggerUrl"])
        tab.call("Page.navigate", url=url)
        deadline = time.time() + 30
        if click:
            found = f"!!document.querySelector({click!r})"
            while time.time() < deadline and not tab.evaluate(found):
                time.sleep(0.2)
            tab.evaluate(f"document.querySelector({click!r}).click()")
            time.sleep(1)
        shown = ""
        while time.time() < deadline:
            shown = tab.evaluate(READ_JS) or ""
            # the script swaps within a second or two; give it time to settle
            if shown and json.loads(shown)[2] != "tel:+12125550100":
                break
            time.sleep(0.5)
        time.sleep(wait if not shown else 1)
        shown = tab.evaluate(READ_JS) or shown
        return json.loads(shown) if shown else None
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def main():
    port = int(os.environ.get("DEMO_PORT", "8069"))
    seen = {}
    failed = False
    for label, url in demo_links("127.0.0.1", port):
        click = "#result" if "/call_tracking/demo/search" in url else None
        shown = visit(url, click=click)
        if not shown:
            print(f"{label:<16} {url}\n    NO NUMBER FOUND")
            failed = True
            continue
        final, text, href, agent = shown
        print(f"{label:<16} {url}\n    landed on {final}\n    shows {text!r}, link {href}")
        if href in seen:
            print(f"    SAME NUMBER AS {seen[href]}")
            failed = True
        seen[href] = label
    print(f"user agent: {agent}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
