"""Reports from a PostgreSQL hot standby: a real streaming replica on the
loopback, made with ``pg_basebackup -R`` from the test cluster, and an Odoo
server started with ``--db_replica_host``/``--db_replica_port``.

While webhooks create calls on the primary, the Call Analysis pivot
(``web_read_group``, an ``@api.readonly`` method reached through
``/web/dataset/call_kw``) must run on the replica and not on the primary:
both servers log every statement of the test database, and the pivot's
domain carries a marker that must appear in the replica's log only. Once the
replica has caught up its figures equal the primary's; with the replica
stopped, Odoo falls back to the primary and the figures are still right.
"""

import re
import threading
import uuid

import requests
from replica_lib import MEASURES, pivot, primary_log_path, web_session
from webhook_helpers import call_event, now_iso, post_event, provider_token


def test_reports_served_by_the_standby(replica, odoo_server_factory):
    server = odoo_server_factory(
        f"--db_replica_host={replica.sock}", f"--db_replica_port={replica.port}", workers=2
    )
    _provider_id, token = provider_token(server.rpc)
    session = web_session(server)
    primary_log = primary_log_path()
    primary_start = primary_log.stat().st_size

    # webhooks create calls on the primary while the pivot is read
    posted = []

    def calls():
        with requests.Session() as hooks:
            for index in range(12):
                call_id = f"replica-{uuid.uuid4().hex[:10]}"
                caller = f"+1212555{index:04d}"
                for event in ("call_start", "call_end"):
                    payload = call_event(event, call_id, caller, "+12125550199", start=now_iso())
                    resp = post_event(hooks, server.url, token, payload)
                    assert resp.status_code == 200, resp.text[:300]
                posted.append(call_id)

    writer = threading.Thread(target=calls)
    writer.start()
    markers = []
    while writer.is_alive() or not markers:
        markers.append(f"replica-marker-{uuid.uuid4().hex}")
        pivot(session, server, markers[-1])
    writer.join()
    assert len(posted) == 12

    replica_log = replica.log.read_text(errors="replace")
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    assert "call_tracking_call_report" in replica_log
    for marker in markers:
        assert marker in replica_log, "the pivot ran on the replica"
        assert marker not in primary_text, "the pivot did not run on the primary"
    # the webhooks wrote on the primary, never on the read-only replica
    inserts = re.compile(r'INSERT INTO "?call_tracking_call"?\s', re.IGNORECASE)
    assert inserts.search(primary_text)
    assert not inserts.search(replica_log)

    # caught up, the replica's figures are the primary's
    replica.wait_caught_up()
    on_replica = pivot(session, server, "replica-after")
    on_primary = sorted(
        (
            (g["channel_id"] and g["channel_id"][0], g["start_at:month"]),
            g["call_count"],
            g["answered_count"],
            round(g["missed_rate"] or 0, 6),
            round(g["won_revenue"] or 0, 2),
        )
        for g in server.rpc(
            "call.tracking.call.report",
            "read_group",
            [],
            MEASURES,
            ["channel_id", "start_at:month"],
            lazy=False,
        )
    )
    assert on_replica == on_primary
    assert sum(row[1] for row in on_replica) >= 12

    # the replica down: Odoo falls back to the primary, figures unchanged
    replica.stop()
    marker = f"replica-down-{uuid.uuid4().hex}"
    assert pivot(session, server, marker) == on_primary
    primary_text = primary_log.read_bytes()[primary_start:].decode(errors="replace")
    assert marker in primary_text
    server.allowed_errors.append(r"replica|could not connect|Connection refused|No such file")
