"""A throwaway certificate authority and broker certificates for a secured test cluster.

PEM files only, which Apache Kafka reads as they are (``ssl.keystore.type=PEM``), so no
Java keytool is needed: the CA's certificate (the truststore of brokers and clients)
and, per broker, a keystore holding its unencrypted PKCS#8 key and its certificate chain
(CN = the broker's principal, SAN ``localhost`` and ``127.0.0.1``, for server and client
authentication). Production issues its own with deploy/kafka/gen-secrets.sh.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Pki", "issue_test_pki"]

_VALID = datetime.timedelta(days=2)


@dataclass(frozen=True)
class Pki:
    """Where a CA's certificate (PEM) and the brokers' PEM keystores are: a throwaway
    one (:func:`issue_test_pki`) or what deploy/kafka/gen-secrets.sh issued
    (:func:`hub.broker.overlay.secrets_pki`)."""

    ca: Path
    keystores: Mapping[str, Path]

    def keystore(self, name: str) -> Path:
        """The PEM keystore (unencrypted PKCS#8 key + certificate chain) of broker ``name``."""
        return self.keystores[name]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rmt-hub test"),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def issue_test_pki(
    directory: Path,
    names: Sequence[str],
    *,
    hosts: Sequence[str] = ("localhost",),
    addresses: Sequence[str] = ("127.0.0.1",),
) -> Pki:
    """A new CA in ``directory`` and a keystore for each of ``names`` (CN = the name)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("rmt-hub throwaway test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    pki = Pki(directory / "ca.pem", {n: directory / f"{n}.keystore.pem" for n in names})
    pki.ca.write_bytes(ca_pem)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    for name in names:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _VALID)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(
            pki.keystore(name), key_pem + cert.public_bytes(serialization.Encoding.PEM) + ca_pem
        )
    return pki
