#!/bin/sh
# Certificates, keystores and SCRAM passwords for the production Kafka of rmt-hub.
#
#   deploy/kafka/gen-secrets.sh [OUT]          (OUT defaults to deploy/kafka/secrets)
#
# Creates, once (existing files are kept, so it is safe to re-run after adding partners):
#   OUT/ca/ca.key, ca.pem                 a private CA for the cluster (keep ca.key offline)
#   OUT/<broker>/kafka.keystore.p12       PKCS#12 key + certificate (CN=<broker>,
#                                         SAN <broker>, localhost), serverAuth + clientAuth
#   OUT/<broker>/keystore_creds, key_creds  its password (the apache/kafka image reads them)
#   OUT/<broker>/ca.pem                   the CA (PEM truststore)
#   OUT/<broker>/client.properties        mTLS client config for the healthcheck
#   OUT/admin/admin.p12, admin.properties the super user "admin" (mTLS) for kafka-init
#   OUT/scram/<principal>                 one SCRAM-SHA-512 password per principal, for the
#                                         principals in PRINCIPALS_FILE (default: the output
#                                         of `rmt-hub acls render --format principals`)
#
# Environment: BROKERS (default "kafka-1 kafka-2 kafka-3"), DAYS (certificate validity,
# default 825), KAFKA_UID (owner of the broker files, default 1000 = appuser in the
# apache/kafka image; applied when run as root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/secrets"}
brokers=${BROKERS:-"kafka-1 kafka-2 kafka-3"}
days=${DAYS:-825}
kafka_uid=${KAFKA_UID:-1000}
umask 077
mkdir -p "$out/ca" "$out/admin" "$out/scram"

if [ ! -f "$out/ca/ca.pem" ]; then
    openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 3650 \
        -subj "/CN=rmt-hub Kafka CA" -keyout "$out/ca/ca.key" -out "$out/ca/ca.pem" 2>/dev/null
    echo "created the CA in $out/ca"
fi

# issue NAME DIR STORE: a key, a certificate signed by the CA, a PKCS#12 store and its password
issue() {
    name=$1 dir=$2 store=$3
    [ -f "$dir/$store" ] && return 0
    mkdir -p "$dir"
    work=$(mktemp -d)
    printf 'subjectAltName=DNS:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        "$name" > "$work/ext"
    openssl req -newkey rsa:3072 -sha256 -nodes -subj "/CN=$name/O=rmt-hub" \
        -keyout "$work/key.pem" -out "$work/req.pem" 2>/dev/null
    openssl x509 -req -sha256 -days "$days" -in "$work/req.pem" -CA "$out/ca/ca.pem" \
        -CAkey "$out/ca/ca.key" -CAcreateserial -CAserial "$out/ca/ca.srl" \
        -extfile "$work/ext" -out "$work/cert.pem" 2>/dev/null
    password=$(openssl rand -hex 24)
    openssl pkcs12 -export -name "$name" -in "$work/cert.pem" -inkey "$work/key.pem" \
        -certfile "$out/ca/ca.pem" -out "$dir/$store" -passout "pass:$password"
    printf '%s' "$password" > "$dir/keystore_creds"
    printf '%s' "$password" > "$dir/key_creds"
    cp "$out/ca/ca.pem" "$dir/ca.pem"
    rm -rf "$work"
    echo "issued a certificate for CN=$name into $dir"
}

# client_properties FILE STORE_PATH CA_PATH PASSWORD_FILE: an mTLS client config
client_properties() {
    password=$(cat "$4")
    cat > "$1" <<PROPS
security.protocol=SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$2
ssl.keystore.password=$password
ssl.key.password=$password
ssl.truststore.type=PEM
ssl.truststore.location=$3
PROPS
}

for broker in $brokers; do
    issue "$broker" "$out/$broker" kafka.keystore.p12
    client_properties "$out/$broker/client.properties" /etc/kafka/secrets/kafka.keystore.p12 \
        /etc/kafka/secrets/ca.pem "$out/$broker/keystore_creds"
done
issue admin "$out/admin" admin.p12
client_properties "$out/admin/admin.properties" /secrets/admin/admin.p12 \
    /secrets/admin/ca.pem "$out/admin/keystore_creds"

principals_file=${PRINCIPALS_FILE:-}
if [ -z "$principals_file" ]; then
    principals_file=$(mktemp)
    rmt-hub acls render --format principals > "$principals_file"
fi
while IFS= read -r principal; do
    [ -n "$principal" ] || continue
    if [ ! -f "$out/scram/$principal" ]; then
        openssl rand -hex 24 > "$out/scram/$principal"
        echo "SCRAM password for $principal in $out/scram/$principal"
    fi
done < "$principals_file"

if [ "$(id -u)" = 0 ]; then
    for broker in $brokers; do chown -R "$kafka_uid" "$out/$broker"; done
    chown -R "$kafka_uid" "$out/admin" "$out/scram"
else
    echo "note: the apache/kafka image runs as uid $kafka_uid; make $out/<broker>, admin" \
        "and scram readable by it (e.g. sudo chown -R $kafka_uid ...)"
fi
echo "put HUB_SASL_PASSWORD=\$(cat $out/scram/hub) into .env for the hub"
