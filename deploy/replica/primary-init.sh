#!/usr/bin/env bash
# First start of the primary (docker-entrypoint-initdb.d): a replication role
# for the standby, allowed to connect from the compose network, and a
# physical replication slot so the primary keeps its WAL until the standby
# has it (watch pg_replication_slots: a standby gone for good must have its
# slot dropped, or the WAL fills the disk).
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v pw="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SELECT pg_create_physical_replication_slot('odoo_replica');
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
