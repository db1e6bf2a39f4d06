"""The deployment example of deploy/, checked without Docker.

docker-compose.yml must parse and mount files of this repository; the nginx
configuration must pass ``nginx -t`` (Debian's nginx, installed by
scripts/setup.sh; the service is never started) and keep the rate limit of
the public number endpoint and the websocket route.
"""

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import devlib
import yaml

DEPLOY = devlib.ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
NGINX_CONF = DEPLOY / "nginx" / "call_tracking.conf"


def _compose():
    return yaml.safe_load(COMPOSE.read_text())


def _bind_mounts(service):
    """(host path, container path) of the bind mounts of one service."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((DEPLOY / source).resolve(), target))
    return mounts


def test_compose_parses_and_mounts_existing_paths():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "odoo", "nginx"}
    assert services["db"]["image"].startswith("postgres:15")
    assert (DEPLOY / services["odoo"]["build"]["context"] / "deploy/Dockerfile").is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM odoo:18\b", dockerfile, re.MULTILINE)
    assert services["nginx"]["image"].startswith("nginx")
    mounts = {target: host for s in services.values() for host, target in _bind_mounts(s)}
    assert mounts, "no bind mount found"
    for target, host in mounts.items():
        assert host.exists(), f"{target} mounts {host}, which does not exist"
    addon = mounts["/mnt/extra-addons/call_tracking"]
    assert addon == (devlib.ROOT / devlib.MODULE).resolve()
    assert (addon / "__manifest__.py").is_file()
    assert mounts["/etc/odoo/odoo.conf"] == (DEPLOY / "odoo.conf").resolve()
    assert mounts["/etc/nginx/conf.d/default.conf"] == NGINX_CONF.resolve()
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    named = {v for v in named if not v.startswith((".", "/"))}
    assert named <= set(compose.get("volumes") or {}), named


def test_odoo_conf_for_production():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(DEPLOY / "odoo.conf")
    options = parser["options"]
    assert options.getboolean("proxy_mode")
    assert options.getint("workers") >= 2
    assert options.getint("max_cron_threads") >= 1
    assert "/mnt/extra-addons" in options["addons_path"].split(",")


def test_nginx_rate_limit_and_routes():
    text = NGINX_CONF.read_text()
    zone = re.search(r"limit_req_zone \$binary_remote_addr zone=(\w+):\S+ rate=(\d+)r/s;", text)
    assert zone, "no per-client-address limit_req_zone"
    location = re.search(r"location = /call_tracking/number \{(.*?)\}", text, re.DOTALL)
    assert location, "no location for /call_tracking/number"
    assert re.search(rf"limit_req zone={zone[1]} burst=\d+", location[1])
    assert "proxy_pass http://odoo;" in location[1]
    assert re.search(r"location /websocket \{[^}]*proxy_pass http://odoo_websocket;", text)
    assert "X-Forwarded-For" in text and "X-Forwarded-Proto" in text


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: run scripts/setup.sh (installs nginx-light)"
    # the compose service names do not resolve here: same config, local upstreams
    conf = NGINX_CONF.read_text().replace("server odoo:", "server 127.0.0.1:")
    assert "odoo:" not in conf
    (tmp_path / "call_tracking.conf").write_text(conf)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log stderr;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/call_tracking.conf;
}}
"""
    )
    proc = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "syntax is ok" in output and "test is successful" in output, output


# ---------------------------------------------------------------- replica

REPLICA = DEPLOY / "replica"
REPLICA_COMPOSE = REPLICA / "docker-compose.yml"
REPLICA_NGINX = REPLICA / "nginx" / "call_tracking.conf"
REPLICA_CONF = REPLICA / "odoo.conf"


def _nginx_t(tmp_path, conf_path):
    """``nginx -t`` of one server configuration, compose names made local."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: run scripts/setup.sh (installs nginx-light)"
    conf = re.sub(r"server odoo\d*:", "server 127.0.0.1:", conf_path.read_text())
    # two upstream servers on the same address and port are allowed
    assert not re.search(r"server odoo\d*:", conf)
    (tmp_path / "site.conf").write_text(conf)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log stderr;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    proc = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "syntax is ok" in output and "test is successful" in output, output


def _replica_bind_mounts(service):
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append(((REPLICA / source).resolve(), target))
    return mounts


def test_replica_compose_topology():
    """nginx in front of two Odoo servers, a primary and a streaming replica."""
    compose = yaml.safe_load(REPLICA_COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"db", "db-replica", "odoo1", "odoo2", "nginx"}
    assert services["db"]["image"].startswith("postgres:15")
    assert services["db-replica"]["image"] == services["db"]["image"]
    # the primary streams WAL and keeps it for the slot
    command = " ".join(services["db"]["command"])
    assert "wal_level=replica" in command and "max_replication_slots=" in command
    for name in ("odoo1", "odoo2"):
        odoo = services[name]
        assert odoo["image"] == "call-tracking-odoo:18"
        assert (REPLICA / odoo["build"]["context"] / odoo["build"]["dockerfile"]).is_file()
        assert odoo["environment"]["HOST"] == "db", "the servers write to the primary"
        assert set(odoo["depends_on"]) == {"db", "db-replica"}
        assert "ports" not in odoo, "only nginx is published"
    # one server runs the crons
    assert services["odoo2"]["command"] == ["--max-cron-threads=0"]
    assert "command" not in services["odoo1"]
    assert set(services["nginx"]["depends_on"]) == {"odoo1", "odoo2"}
    assert services["nginx"]["ports"] == ["80:80"]
    mounts = {}
    for name, service in services.items():
        for host, target in _replica_bind_mounts(service):
            assert host.exists(), f"{name}: {target} mounts {host}, which does not exist"
            mounts[target] = host
    assert mounts["/mnt/extra-addons/call_tracking"] == (devlib.ROOT / devlib.MODULE).resolve()
    assert mounts["/etc/odoo/odoo.conf"] == REPLICA_CONF.resolve()
    assert mounts["/etc/nginx/conf.d/default.conf"] == REPLICA_NGINX.resolve()
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    named = {v for v in named if not v.startswith((".", "/"))}
    assert named <= set(compose.get("volumes") or {}), named
    # both Odoo servers share the filestore; the databases have their own
    assert "odoo-data:/var/lib/odoo" in services["odoo1"]["volumes"]
    assert "odoo-data:/var/lib/odoo" in services["odoo2"]["volumes"]


def test_replica_bootstrap_scripts():
    """The replica is made by pg_basebackup -R on the slot the primary made."""
    compose = yaml.safe_load(REPLICA_COMPOSE.read_text())
    replica = compose["services"]["db-replica"]
    slot = replica["environment"]["REPLICATION_SLOT"]
    assert replica["environment"]["PRIMARY_HOST"] == "db"
    init = (REPLICA / "primary-init.sh").read_text()
    boot = (REPLICA / "replica-bootstrap.sh").read_text()
    assert f"pg_create_physical_replication_slot('{slot}')" in init
    assert "WITH REPLICATION LOGIN" in init and "host replication replicator" in init
    basebackup = re.search(r"pg_basebackup (.*?)--progress", boot, re.DOTALL)
    assert basebackup, "no pg_basebackup in the bootstrap"
    args = basebackup[1].split()
    for flag in ("-R", "-S", "-X", "-h", "-U", "-D"):
        assert flag in args, flag
    assert args[args.index("-S") + 1] == '"$REPLICATION_SLOT"'
    assert "hot_standby=on" in boot
    for script in ("primary-init.sh", "replica-bootstrap.sh"):
        proc = subprocess.run(
            ["bash", "-n", str(REPLICA / script)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr


def test_replica_odoo_conf_read_by_odoo():
    """Odoo 18's own configuration parser reads the file: the replica, the
    proxy and the workers are options it knows, with the values meant."""
    script = (
        "import json, sys\n"
        "from odoo.tools import config\n"
        "config._parse_config(['-c', sys.argv[1]])\n"
        "keys = ['db_replica_host', 'db_replica_port', 'proxy_mode', 'workers',\n"
        "        'max_cron_threads', 'gevent_port', 'db_maxconn', 'limit_time_real']\n"
        "print(json.dumps({k: config[k] for k in keys}))\n"
    )
    proc = subprocess.run(
        [devlib.python(), "-c", script, str(REPLICA_CONF)],
        capture_output=True,
        text=True,
        check=False,
        env=devlib.odoo_env(PYTHONPATH=devlib.odoo_src()),
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    options = json.loads(proc.stdout.strip().splitlines()[-1])
    compose = yaml.safe_load(REPLICA_COMPOSE.read_text())
    assert options["db_replica_host"] == "db-replica"
    assert "db-replica" in compose["services"]
    assert options["db_replica_port"] == 5432
    assert options["proxy_mode"] is True
    assert options["workers"] >= 2
    assert options["max_cron_threads"] >= 1
    assert options["gevent_port"] == 8072
    # every option of the file is one Odoo 18 knows (a typo would be ignored)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPLICA_CONF)
    config_py = (Path(devlib.odoo_src()) / "odoo" / "tools" / "config.py").read_text()
    for key in parser["options"]:
        assert re.search(rf"""dest=["']{key}["']|["']{key}["']""", config_py), key


def test_replica_nginx_balances_both_servers(tmp_path):
    text = REPLICA_NGINX.read_text()
    upstream = re.search(r"upstream odoo \{(.*?)\}", text, re.DOTALL)[1]
    assert "server odoo1:8069;" in upstream and "server odoo2:8069;" in upstream
    websocket = re.search(r"upstream odoo_websocket \{(.*?)\}", text, re.DOTALL)[1]
    assert "server odoo1:8072;" in websocket and "server odoo2:8072;" in websocket
    location = re.search(r"location = /call_tracking/number \{(.*?)\}", text, re.DOTALL)
    assert location and "limit_req zone=" in location[1]
    assert re.search(r"location /websocket \{[^}]*proxy_pass http://odoo_websocket;", text)
    assert "X-Forwarded-For" in text and "X-Forwarded-Proto" in text
    _nginx_t(tmp_path, REPLICA_NGINX)
