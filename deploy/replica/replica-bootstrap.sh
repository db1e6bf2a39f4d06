#!/usr/bin/env bash
# The standby: on its first start, copy the primary with pg_basebackup -R
# (writes primary_conninfo and standby.signal) on the slot the primary made,
# then run as a hot standby. Later starts just resume streaming.
set -euo pipefail
export PGPASSWORD="$REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres; do sleep 2; done
    mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" \
        -R -X stream -c fast -S "$REPLICATION_SLOT" --progress
fi
# the password of primary_conninfo is in postgresql.auto.conf (pg_basebackup -R)
exec postgres -D "$PGDATA" -c hot_standby=on -c hot_standby_feedback=on \
    -c max_standby_streaming_delay=30s
