"""The deployment example of deploy/, checked without Docker.

docker-compose.yml must parse and mount files of this repository; the nginx
configuration must pass ``nginx -t`` (Debian's nginx, installed by
scripts/setup.sh; the service is never started) and keep the rate limit of
the public number endpoint and the websocket route.
"""

import configparser
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
