#!/bin/bash
# Runs once per deployment in the kafka-init service (apache/kafka image): creates a
# SCRAM-SHA-512 credential per principal and applies the ACLs rendered from the topic
# catalogue. Both steps are idempotent (existing credentials are updated to the current
# password, existing ACLs are left as they are).
#
# Environment:
#   BOOTSTRAP       the brokers' mTLS listener, e.g. kafka-1:9092,kafka-2:9092,kafka-3:9092
#   COMMAND_CONFIG  client properties as a broker over mTLS (a super user; there is no
#                   admin user): gen-secrets.sh's <broker>/client.properties
#   ACLS_DIR        holds acls.sh and principals.txt (`rmt-hub acls render`), default /acls
#   SCRAM_DIR       one password file per principal, default /secrets/scram
#   KAFKA_BIN       default /opt/kafka/bin
set -euo pipefail

: "${BOOTSTRAP:?set BOOTSTRAP}"
: "${COMMAND_CONFIG:?set COMMAND_CONFIG}"
acls_dir=${ACLS_DIR:-/acls}
scram_dir=${SCRAM_DIR:-/secrets/scram}
bin=${KAFKA_BIN:-/opt/kafka/bin}

for attempt in $(seq 1 60); do
    if "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$BOOTSTRAP" \
        --command-config "$COMMAND_CONFIG" > /dev/null 2>&1; then
        break
    fi
    [ "$attempt" = 60 ] && { echo "brokers at $BOOTSTRAP did not answer" >&2; exit 1; }
    sleep 2
done

missing=0
while IFS= read -r principal; do
    [ -n "$principal" ] || continue
    if [ ! -s "$scram_dir/$principal" ]; then
        echo "no SCRAM password file $scram_dir/$principal (run gen-secrets.sh)" >&2
        missing=1
        continue
    fi
    password=$(tr -d '\r\n' < "$scram_dir/$principal")
    case $password in
        *[!A-Za-z0-9]*) echo "the password of $principal must be alphanumeric" >&2; exit 1 ;;
    esac
    "$bin/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$COMMAND_CONFIG" \
        --alter --entity-type users --entity-name "$principal" \
        --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" > /dev/null
    echo "SCRAM credential of $principal set"
done < "$acls_dir/principals.txt"
[ "$missing" = 0 ] || exit 1

BOOTSTRAP=$BOOTSTRAP COMMAND_CONFIG=$COMMAND_CONFIG KAFKA_ACLS="$bin/kafka-acls.sh" \
    sh "$acls_dir/acls.sh" > /dev/null
echo "applied $(grep -c -- '--add' "$acls_dir/acls.sh") ACL commands from $acls_dir/acls.sh"
