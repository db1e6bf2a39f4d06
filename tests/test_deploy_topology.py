"""The topology of ``deploy/replica`` started here, without containers (this
machine has no Docker engine): nginx with the example's own configuration
(``deploy/replica/nginx/call_tracking.conf``, only the service names
``odoo1``/``odoo2`` and the listening port replaced by loopback ports) in
front of two Odoo servers started with the options of the example's
``odoo.conf`` (``proxy_mode``, ``db_replica_host``/``db_replica_port``, the
time limits; two workers each, the second without crons as in the compose
file), the test cluster as the primary and a streaming replica made from it
with ``pg_basebackup -R`` (``replica_lib.Replica``).

Through nginx only:

- visitors get numbers from ``POST /call_tracking/number``, and a burst from
  one address is cut by the example's rate limit (429 from nginx itself, no
  upstream);
- provider webhooks create calls and leads on the primary, and Odoo records
  the sender's address from nginx's ``X-Forwarded-For`` (proxy mode);
- a manager's Call Analysis pivot runs on the replica (a marker in the
  replica's statement log, not in the primary's), with the primary's figures
  once the replica caught up;
- both Odoo servers answer requests (nginx's log of upstream addresses).
"""

import configparser
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import devlib
import pytest
import requests
from replica_lib import pivot, primary_log_path
from visitor_client import browser_session, loopback_address
from webhook_helpers import call_event, post_event, provider_token

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "replica"
NGINX = Path("/usr/sbin/nginx")


def _example_options(replica):
    """The Odoo command-line options of the example's odoo.conf, the replica
    and the data directory being this machine's."""
    conf = configparser.ConfigParser()
    conf.read(EXAMPLE / "odoo.conf")
    options = conf["options"]
    assert options["db_replica_host"] == "db-replica"
    assert options.getboolean("proxy_mode")
    return [
        f"--db_replica_host={replica.sock}",
        f"--db_replica_port={replica.port}",
        "--proxy-mode",
        f"--limit-time-cpu={options['limit_time_cpu']}",
        f"--limit-time-real={options['limit_time_real']}",
        f"--db_maxconn={options['db_maxconn']}",
    ]


class Nginx:
    """nginx in the foreground with the example's server configuration."""

    def __init__(self, servers):
        self.root = Path(tempfile.mkdtemp(prefix="ct-nginx-"))
        self.port = devlib.free_port()
        text = (EXAMPLE / "nginx" / "call_tracking.conf").read_text()
        replacements = {
            "server odoo1:8069;": f"server 127.0.0.1:{servers[0].http_port};",
            "server odoo2:8069;": f"server 127.0.0.1:{servers[1].http_port};",
            "server odoo1:8072;": f"server 127.0.0.1:{servers[0].gevent_port};",
            "server odoo2:8072;": f"server 127.0.0.1:{servers[1].gevent_port};",
            "listen 80;": f"listen 127.0.0.1:{self.port};",
        }
        for old, new in replacements.items():
            assert text.count(old) == 1, f"the example's nginx configuration has no {old!r}"
            text = text.replace(old, new)
        (self.root / "call_tracking.conf").write_text(text)
        temp = self.root / "temp"
        temp.mkdir()
        self.access_log = self.root / "access.log"
        (self.root / "nginx.conf").write_text(
            f"""
user root;
worker_processes 1;
daemon off;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$remote_addr "$request" $status "$upstream_addr"';
    access_log {self.access_log} upstreams;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.root}/call_tracking.conf;
}}
"""
        )
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            [str(NGINX), "-p", str(self.root), "-c", str(self.root / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/web/health", timeout=5)
                return self
            except requests.ConnectionError:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"nginx did not start: {self.proc.stderr.read().decode()}"
                    ) from None
                time.sleep(0.2)
        raise AssertionError("nginx did not answer")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def log_lines(self):
        return self.access_log.read_text(errors="replace").splitlines()


@pytest.fixture
def topology(replica, odoo_server_factory):
    if not NGINX.exists():
        pytest.skip("needs nginx (scripts/setup.sh installs it)")
    options = _example_options(replica)
    # odoo1 runs the crons in the example, odoo2 none: here neither (the
    # test harness runs no crons)
    servers = [odoo_server_factory(*options, workers=2) for _index in range(2)]
    nginx = Nginx(servers).start()
    try:
        yield SimpleNamespace(servers=servers, nginx=nginx, replica=replica)
    finally:
        nginx.stop()
        for server in servers:
            server.allowed_errors.append(r"replica|could not connect|Connection refused")


def _number(url, source):
    body = {
        "url": f"https://shop.example/landing?utm_source=google&utm_medium=cpc"
        f"&gclid={uuid.uuid4().hex}",
        "referrer": "https://www.google.com/",
        "website_id": 1,
    }
    with browser_session(source) as session:
        return session.post(f"{url}/call_tracking/number", json=body, timeout=60)


def test_compose_topology_without_containers(topology):
    nginx, servers, replica = topology.nginx, topology.servers, topology.replica
    url = nginx.url
    db = servers[0].db

    # visitors: numbers through nginx, each address its own client
    for _index in range(6):
        resp = _number(url, loopback_address())
        assert resp.status_code == 200, resp.text[:300]
        assert resp.json().get("number"), resp.text[:300]
    # a burst from one address: the example's limit (5/s, burst 20) answers
    # 429 itself once the burst is spent
    source = loopback_address()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _i: _number(url, source).status_code, range(60)))
    assert statuses.count(200) >= 20, statuses
    assert 429 in statuses, statuses
    refused = [
        line
        for line in nginx.log_lines()
        if line.startswith(f"{source} ") and '" 429 "' in line and line.endswith('"-"')
    ]
    assert refused, "nginx itself refused the burst (no upstream answered those)"

    # webhooks through nginx create calls on the primary; Odoo in proxy mode
    # records the sender's address that nginx forwards
    _provider_id, token = provider_token(servers[0].rpc)
    sender = loopback_address()
    call_ids = []
    with browser_session(sender) as hooks:
        for index in range(4):
            call_id = f"topology-{uuid.uuid4().hex[:10]}"
            for event in ("call_start", "call_end"):
                payload = call_event(event, call_id, f"+1212666{index:04d}", "+12125550199")
                resp = post_event(hooks, url, token, payload)
                assert resp.status_code == 200, resp.text[:300]
            call_ids.append(call_id)
    calls = servers[1].rpc(
        "call.tracking.call",
        "search_read",
        [("provider_call_id", "in", call_ids)],
        fields=["lead_id", "webhook_event_ids"],
    )
    assert len(calls) == 4 and all(call["lead_id"] for call in calls), calls
    addresses = servers[0].rpc(
        "call.tracking.webhook.event",
        "search_read",
        [("id", "in", [event for call in calls for event in call["webhook_event_ids"]])],
        fields=["remote_addr"],
    )
    assert {row["remote_addr"] for row in addresses} == {sender}

    # a manager's pivot through nginx: served by the replica
    session = requests.Session()
    resp = session.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": db, "login": "admin", "password": "admin"}},
        timeout=60,
    )
    assert resp.json().get("result", {}).get("uid"), resp.text[:300]
    primary_log = primary_log_path()
    primary_start = primary_log.stat().st_size
    replica.wait_caught_up()
    markers = [f"topology-marker-{uuid.uuid4().hex}" for _index in range(4)]
    through_nginx = SimpleNamespace(url=url, db=db)
    figures = [pivot(session, through_nginx, marker) for marker in markers]
    replica_log = replica.log.read_text(errors="replace")
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    for marker in markers:
        assert marker in replica_log, "the pivot ran on the replica"
        assert marker not in primary_text, "the pivot did not run on the primary"
    # the replica's figures are the primary's
    on_primary = servers[0].rpc(
        "call.tracking.call.report",
        "read_group",
        [],
        ["call_count:sum"],
        ["channel_id", "start_at:month"],
        lazy=False,
    )
    assert sum(row[1] for row in figures[-1]) == sum(g["call_count"] for g in on_primary)

    # both Odoo servers answered through nginx
    upstreams = {line.rsplit('"', 2)[-2] for line in nginx.log_lines()}
    for server in servers:
        assert any(str(server.http_port) in upstream for upstream in upstreams), (
            server.http_port,
            upstreams,
        )
