#!/usr/bin/env python3
"""`make demo`: the database call_tracking_demo (module + demo data), served
in the foreground on http://127.0.0.1:8069 (admin / admin), with links that
show each channel's number on the demo website.

Environment: DEMO_DB (default call_tracking_demo), DEMO_PORT (8069),
DEMO_INTERFACE (127.0.0.1; 0.0.0.0 to reach it from another machine).
"""

import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devlib
from devlib import MODULE


def say(msg):
    print(f"demo: {msg}", flush=True)


def port_in_use(interface, port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((interface, port))
        except OSError:
            return True
    return False


def demo_links(host, port):
    """(label, URL) of the demo visits that each show another number."""
    base = f"http://{host}:{port}"
    return [
        ("Direct:", f"{base}/contactus"),
        ("Google Ads:", f"{base}/contactus?utm_source=google&utm_medium=cpc&gclid=demo-1"),
        ("Facebook Ads:", f"{base}/contactus?utm_source=facebook&utm_medium=cpc&fbclid=demo-1"),
        # a stand-in search results page on the other local name: the click
        # on its result arrives with an outside referrer (docs/user/demo.rst)
        ("Organic search:", f"http://localhost:{port}/call_tracking/demo/search"),
    ]


def main():
    db = os.environ.get("DEMO_DB", "call_tracking_demo")
    port = int(os.environ.get("DEMO_PORT", "8069"))
    interface = os.environ.get("DEMO_INTERFACE", "127.0.0.1")
    if port_in_use(interface, port):
        say(
            f"ERROR: port {port} is already in use (another Odoo or `make demo`?)."
            f" Stop it, or run: DEMO_PORT={port + 1} make demo"
        )
        return 1
    logdir = devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + f"-demo-{os.getpid()}")
    logdir.mkdir(parents=True, exist_ok=True)
    if not devlib.db_exists(db):
        say(f"creating database {db}")
        devlib.copy_db(devlib.ensure_template(logdir, say), db)
    action = "-u" if devlib.module_state(db) == "installed" else "-i"
    log = logdir / "install.log"
    say(f"{'updating' if action == '-u' else 'installing'} {MODULE} in {db} (log {log})")
    rc = devlib.run_odoo(
        ["-d", db, action, MODULE, "--stop-after-init", "--max-cron-threads=0",
         "--http-interface=127.0.0.1", f"--http-port={devlib.free_port()}"],
        log,
    )  # fmt: skip
    rep = devlib.scan_log(log)
    if rc or rep.error_blocks or devlib.module_state(db) != "installed":
        print("\n\n".join(rep.error_blocks) or devlib.tail(log), flush=True)
        say(f"ERROR: {MODULE} did not install in {db}; full log {log}")
        return 1
    host = "127.0.0.1" if interface in ("127.0.0.1", "0.0.0.0") else interface
    say("")
    say(f"    URL:   http://{host}:{port}   (Odoo back end: http://{host}:{port}/odoo)")
    say("    login: admin   password: admin")
    say("    stop:  Ctrl+C")
    say("")
    say("    The contact page as each kind of visitor sees it (open each link in a new")
    say("    private window: a visitor keeps their number and channel):")
    for label, url in demo_links(host, port):
        say(f"    {label:<16} {url}")
    say("")
    cmd = devlib.odoo_cmd(
        "-d", db, f"--db-filter=^{db}$", f"--http-port={port}", f"--http-interface={interface}"
    )
    os.execve(cmd[0], cmd, devlib.odoo_env())


if __name__ == "__main__":
    sys.exit(main())
