#!/usr/bin/env bash
# Idempotent setup shared by `make demo`, `make test` and `make bench`:
#   1. checks the Odoo 18.0 source tree ($ODOO_SRC, default /opt/odoo-src)
#   2. .venv with Odoo's requirements + requirements.txt + requirements-test.txt
#      (skipped while a stamp says the requirement files did not change)
#   3. PostgreSQL: the server of PGHOST/PGPORT/PGUSER when one is set, else a
#      private cluster in .local/pg listening only on a Unix socket; role `odoo`
#   4. Chromium (Odoo's browser tests are silently skipped without it), nginx
#      (`nginx -t` of the deployment example) and prettier (.local/node)
#   5. .local/odoo.conf and .local/env.sh
# Safe to run concurrently from the same checkout (flock).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL=$ROOT/.local
VENV=$ROOT/.venv
ODOO_SRC=${ODOO_SRC:-/opt/odoo-src}
PYTHON=${PYTHON:-python3}
# Bump to force a reinstall of the venv on every machine.
VENV_STAMP_VERSION=2

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
hash_str() { printf '%s' "$1" | sha256sum | cut -c1-12; }

apt_install() {
    is_root || die "missing system package(s) $*; install them (sudo apt-get install $*) and retry"
    say "installing Debian package(s): $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >"$LOCAL/logs/apt.log" 2>&1 \
        || { tail -20 "$LOCAL/logs/apt.log" >&2; die "apt-get update failed"; }
    apt-get install -y -q --no-install-recommends "$@" >>"$LOCAL/logs/apt.log" 2>&1 \
        || { tail -20 "$LOCAL/logs/apt.log" >&2; die "apt-get install $* failed (log: $LOCAL/logs/apt.log)"; }
}

# ---------------------------------------------------------------- Odoo tree
if [ ! -d "$ODOO_SRC/odoo/addons/crm" ]; then
    cat >&2 <<EOF
setup: ERROR: no Odoo 18.0 source tree at ODOO_SRC=$ODOO_SRC
       (expected $ODOO_SRC/odoo/addons/crm).
       Get Odoo 18.0's official source, e.g.
           git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git ~/odoo-18.0
       (https://github.com/odoo/odoo/tree/18.0) and run again with
           ODOO_SRC=~/odoo-18.0 make test
EOF
    exit 2
fi
ODOO_SRC=$(cd "$ODOO_SRC" && pwd)
grep -q "version_info = (18, 0" "$ODOO_SRC/odoo/release.py" \
    || die "$ODOO_SRC is not Odoo 18.0 (see $ODOO_SRC/odoo/release.py)"

mkdir -p "$LOCAL/logs" "$LOCAL/data" "$LOCAL/locks"
exec 9>"$LOCAL/locks/setup.lock"
flock 9

# ---------------------------------------------------------------- venv
"$PYTHON" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 13))' \
    || die "$PYTHON is $("$PYTHON" --version 2>&1); Odoo 18.0 needs Python 3.10 to 3.12 (set PYTHON=...)"
# Odoo's requirements minus python-ldap (needs the LDAP C headers; only the
# auth_ldap module uses it).
grep -v -i '^python-ldap' "$ODOO_SRC/requirements.txt" >"$LOCAL/odoo-requirements.txt"
# cbor2 (Odoo pin) does not build with setuptools>=81: a *build* constraint.
printf 'setuptools<81\n' >"$LOCAL/build-constraints.txt"
# `python -m venv` seeds setuptools 65.5, whose pkg_resources looks up
# distributions by their non-normalised names: Odoo's gevent (websocket)
# worker then dies at start with "DistributionNotFound: The 'zope.interface'
# distribution was not found" (its dist-info is zope_interface-*). 75.8+
# finds it; 80.10 (the last before 81) warns with a UserWarning that Odoo's
# filter (DeprecationWarning only) lets into every server log.
printf 'setuptools==78.1.1\n' >"$LOCAL/venv-requirements.txt"
stamp=$( {
    echo "v$VENV_STAMP_VERSION"
    "$PYTHON" -c 'import sys; print(sys.version)'
    cat "$LOCAL/odoo-requirements.txt" "$ROOT/requirements.txt" "$ROOT/requirements-test.txt" \
        "$LOCAL/build-constraints.txt" "$LOCAL/venv-requirements.txt"
} | sha256sum | cut -d' ' -f1)
stamp_file=$VENV/.call_tracking-requirements.sha256
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
    say "venv up to date ($VENV)"
else
    [ -x "$VENV/bin/python" ] || { say "creating venv $VENV"; "$PYTHON" -m venv "$VENV"; }
    say "installing Python requirements into .venv (log: .local/logs/pip.log, a few minutes the first time)"
    {
        # --build-constraint / PIP_BUILD_CONSTRAINT needs pip >= 25.3
        "$VENV/bin/python" -m pip install -q --upgrade 'pip>=25.3' &&
        PIP_BUILD_CONSTRAINT="$LOCAL/build-constraints.txt" "$VENV/bin/python" -m pip install \
            -r "$LOCAL/venv-requirements.txt" -r "$LOCAL/odoo-requirements.txt" \
            -r "$ROOT/requirements.txt" -r "$ROOT/requirements-test.txt"
    } >"$LOCAL/logs/pip.log" 2>&1 || { tail -30 "$LOCAL/logs/pip.log" >&2; die "pip install failed (log: $LOCAL/logs/pip.log)"; }
    echo "$stamp" >"$stamp_file"
    say "venv ready"
fi

# ---------------------------------------------------------------- PostgreSQL
PG_REACHABLE=1 # can the postgres user reach .local? (not under /root, say)
if is_root && ! runuser -u postgres -- test -x "$LOCAL"; then PG_REACHABLE=0; fi
SOCK_DIR=$LOCAL/pgsock
if [ $((${#SOCK_DIR} + 15)) -gt 100 ] || [ "$PG_REACHABLE" = 0 ]; then
    # a Unix socket path must stay under ~107 bytes
    SOCK_DIR=/tmp/call_tracking-pg-$(hash_str "$ROOT")
fi
# PG* variables pointing at our own private cluster (`source .local/env.sh`)
# still mean "the private cluster".
if [ "${PGHOST:-}" = "$SOCK_DIR" ]; then unset PGHOST PGPORT PGUSER PGPASSWORD; fi
if [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}" ]; then
    DB_HOST=${PGHOST:-}
    DB_PORT=${PGPORT:-5432}
    DB_USER=${PGUSER:-$(id -un)}
    DB_PASSWORD=${PGPASSWORD:-}
    say "using the PostgreSQL server given by PG* variables (${DB_HOST:-default socket}:$DB_PORT, user $DB_USER)"
    "$VENV/bin/python" - <<'EOF' || die "cannot connect to that PostgreSQL server (check PGHOST/PGPORT/PGUSER/PGPASSWORD)"
import psycopg2
psycopg2.connect(dbname="postgres").close()
EOF
else
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
        apt_install postgresql
        pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    as_pg() { if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
    PGDATA_DIR=$LOCAL/pg
    if [ "$PG_REACHABLE" = 0 ]; then
        PGDATA_DIR=/var/tmp/call_tracking-pg-$(hash_str "$ROOT")
        say "postgres cannot access $LOCAL: cluster data in $PGDATA_DIR"
    fi
    DB_PORT=5432 # only names the socket file: no TCP (listen_addresses='')
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "creating private PostgreSQL cluster in $PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        is_root && chown postgres: "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        as_pg "$pgbin/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$LOCAL/logs/initdb.log" 2>&1 \
            || { cat "$LOCAL/logs/initdb.log" >&2; die "initdb failed"; }
        # Throw-away development cluster: durability traded for speed.
        as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF
# --- call_tracking development cluster (scripts/setup.sh) ---
listen_addresses = ''
unix_socket_directories = '$SOCK_DIR'
port = $DB_PORT
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    mkdir -p "$SOCK_DIR"
    is_root && chown postgres: "$SOCK_DIR"
    if ! as_pg "$pgbin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        say "starting PostgreSQL (socket dir $SOCK_DIR)"
        # 9>&-: the server must not inherit (and hold forever) the setup lock
        as_pg "$pgbin/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 start >/dev/null 9>&- \
            || { tail -20 "$PGDATA_DIR/server.log" >&2; die "PostgreSQL did not start (log: $PGDATA_DIR/server.log)"; }
    fi
    if ! "$pgbin/psql" -h "$SOCK_DIR" -p "$DB_PORT" -U postgres -d postgres -tAq \
        -c "SELECT 1 FROM pg_roles WHERE rolname = 'odoo'" | grep -q 1; then
        "$pgbin/psql" -h "$SOCK_DIR" -p "$DB_PORT" -U postgres -d postgres -q \
            -c "CREATE ROLE odoo LOGIN SUPERUSER" || die "could not create role odoo"
    fi
    DB_HOST=$SOCK_DIR
    DB_USER=odoo
    DB_PASSWORD=
    [ "$PGDATA_DIR" = "$LOCAL/pg" ] || ln -sfn "$PGDATA_DIR" "$LOCAL/pg"
    say "PostgreSQL ready: private cluster $PGDATA_DIR, socket $SOCK_DIR, role odoo"
fi

# ---------------------------------------------------------------- Chromium
if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1 \
    && ! command -v chromium-browser >/dev/null 2>&1; then
    apt_install chromium
fi

# ---------------------------------------------------------------- espeak-ng
# call_tracking/tests/test_transcription.py and tests/bench_transcription.py
# synthesize the caller's words with it (PocketSphinx then hears them)
command -v espeak-ng >/dev/null 2>&1 || apt_install espeak-ng

# ---------------------------------------------------------------- nginx
# tests/test_deploy.py checks the reverse proxy of deploy/ with `nginx -t`
# (the service itself is never started).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx-light

# ---------------------------------------------------------------- prettier
# For the prettier hook of .pre-commit-config.yaml (XML and JS). Pinned here;
# needs node/npm (Debian: apt-get install nodejs npm).
PRETTIER_PKGS="prettier@3.10.1 @prettier/plugin-xml@3.4.2"
NODE_DIR=$LOCAL/node
if [ "$(cat "$NODE_DIR/.stamp" 2>/dev/null)" != "$PRETTIER_PKGS" ]; then
    if command -v npm >/dev/null 2>&1; then
        say "installing $PRETTIER_PKGS into .local/node (npm)"
        mkdir -p "$NODE_DIR"
        # shellcheck disable=SC2086
        npm install --no-save --no-audit --no-fund --prefix "$NODE_DIR" $PRETTIER_PKGS \
            >"$LOCAL/logs/npm.log" 2>&1 && echo "$PRETTIER_PKGS" >"$NODE_DIR/.stamp" \
            || say "WARNING: npm install of prettier failed (log: .local/logs/npm.log)"
    else
        say "WARNING: npm not found: the prettier hook of .pre-commit-config.yaml cannot run"
    fi
fi

# ---------------------------------------------------------------- config
tmp=$(mktemp "$LOCAL/odoo.conf.XXXXXX")
cat >"$tmp" <<EOF
; generated by scripts/setup.sh: edits are overwritten
[options]
addons_path = $ODOO_SRC/odoo/addons,$ROOT
data_dir = $LOCAL/data
db_host = ${DB_HOST:-False}
db_port = ${DB_PORT:-False}
db_user = $DB_USER
db_password = ${DB_PASSWORD:-False}
list_db = False
screenshots = $LOCAL/logs/screenshots
EOF
chmod 600 "$tmp"
mv -f "$tmp" "$LOCAL/odoo.conf"
cat >"$LOCAL/env.sh" <<EOF
# generated by scripts/setup.sh; \`source .local/env.sh\` to use psql/createdb
export ODOO_SRC='$ODOO_SRC'
export ODOO_RC='$LOCAL/odoo.conf'
export PGHOST='$DB_HOST'
export PGPORT='$DB_PORT'
export PGUSER='$DB_USER'
EOF
[ -z "$DB_PASSWORD" ] || echo "export PGPASSWORD='$DB_PASSWORD'" >>"$LOCAL/env.sh"
[ -z "${pgbin:-}" ] || echo "export PATH='$pgbin':\"\$PATH\"" >>"$LOCAL/env.sh"
say "ready (config $LOCAL/odoo.conf)"
