#!/bin/sh
# Certificates and SCRAM passwords for the production Kafka of rmt-hub
# (deploy/kafka/compose.security.yml mounts what this writes).
#
#   deploy/kafka/gen-secrets.sh [OUT]          (OUT defaults to deploy/kafka/secrets)
#
# Creates, once (existing files are kept, so it is safe to re-run after adding partners):
#   OUT/ca/ca.key                       a private CA for the cluster (keep ca.key offline)
#   OUT/ca/ca.pem                       its certificate: every client's truststore
#   OUT/<broker>/keystore.pem           PEM keystore: the unencrypted PKCS#8 key and the
#                                       certificate chain (subject CN=<broker>,O=rmt-hub;
#                                       SAN <broker>, localhost, 127.0.0.1; server and
#                                       client auth), mode 0600
#   OUT/<broker>/ca.pem                 the CA (PEM truststore)
#   OUT/<broker>/client.properties      mTLS client config as the broker itself (a super
#                                       user): the healthcheck and kafka-init use it
#   OUT/scram/<principal>               one SCRAM-SHA-512 password per principal, for the
#                                       principals in PRINCIPALS_FILE (default: the output
#                                       of `rmt-hub acls render --format principals` for
#                                       the catalogue docker-compose.yml runs, with its
#                                       external schema registry)
# There is no admin user: kafka-init authenticates with a broker's certificate.
#
# Environment: BROKERS (default "kafka-1 kafka-2 kafka-3"), DAYS (certificate validity,
# default 825), KAFKA_UID (owner of the files the apache/kafka image reads, default
# 1000 = its appuser; applied when run as root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/secrets"}
brokers=${BROKERS:-"kafka-1 kafka-2 kafka-3"}
days=${DAYS:-825}
kafka_uid=${KAFKA_UID:-1000}
umask 077
mkdir -p "$out/ca" "$out/scram"

# new_key FILE: an EC P-256 key as unencrypted PKCS#8, the form Kafka's PEM keystore reads
new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

if [ ! -f "$out/ca/ca.pem" ]; then
    new_key "$out/ca/ca.key"
    openssl req -x509 -new -sha256 -days 3650 -key "$out/ca/ca.key" \
        -subj "/CN=rmt-hub Kafka CA/O=rmt-hub" -out "$out/ca/ca.pem"
    echo "created the CA in $out/ca"
fi
chmod 644 "$out/ca/ca.pem"  # public: the hub's services read it as another user

# issue NAME: a key and a certificate signed by the CA, as OUT/NAME/keystore.pem
issue() {
    name=$1
    dir="$out/$name"
    [ -f "$dir/keystore.pem" ] && return 0
    mkdir -p "$dir"
    work=$(mktemp -d)
    printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n%s\n' "$name" \
        'extendedKeyUsage=serverAuth,clientAuth' > "$work/ext"
    new_key "$work/key.pem"
    openssl req -new -sha256 -key "$work/key.pem" -subj "/CN=$name/O=rmt-hub" \
        -out "$work/req.pem"
    openssl x509 -req -sha256 -days "$days" -in "$work/req.pem" -CA "$out/ca/ca.pem" \
        -CAkey "$out/ca/ca.key" -CAcreateserial -CAserial "$out/ca/ca.srl" \
        -extfile "$work/ext" -out "$work/cert.pem" 2>/dev/null
    cat "$work/key.pem" "$work/cert.pem" "$out/ca/ca.pem" > "$dir/keystore.pem"
    cp "$out/ca/ca.pem" "$dir/ca.pem"
    cat > "$dir/client.properties" <<PROPS
security.protocol=SSL
ssl.keystore.type=PEM
ssl.keystore.location=/etc/kafka/secrets/keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/secrets/ca.pem
PROPS
    rm -rf "$work"
    echo "issued a certificate for CN=$name into $dir"
}

for broker in $brokers; do
    issue "$broker"
done

principals_file=${PRINCIPALS_FILE:-}
if [ -z "$principals_file" ]; then
    principals_file=$(mktemp)
    # compose's catalogue (hub/broker/overlay.py CATALOGUE_ENVIRONMENT; a test checks)
    HUB_SCHEMA_REGISTRY_URL=http://schema-registry:8081 \
        rmt-hub acls render --format principals > "$principals_file"
fi
while IFS= read -r principal; do
    [ -n "$principal" ] || continue
    case $principal in
        *[!A-Za-z0-9._-]*) echo "not a principal name: $principal" >&2; exit 1 ;;
    esac
    if [ ! -f "$out/scram/$principal" ]; then
        openssl rand -hex 24 > "$out/scram/$principal"
        echo "SCRAM password for $principal in $out/scram/$principal"
    fi
done < "$principals_file"

if [ "$(id -u)" = 0 ]; then
    for broker in $brokers; do chown -R "$kafka_uid" "$out/$broker"; done
    chown -R "$kafka_uid" "$out/scram"
else
    echo "note: the apache/kafka image runs as uid $kafka_uid; make $out/<broker> and" \
        "$out/scram readable by it (e.g. sudo chown -R $kafka_uid ...)"
fi
echo "each hub service's password goes into .env: see deploy/kafka/README.md"
