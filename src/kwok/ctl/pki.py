"""The cluster PKI: one CA and one certificate for everything, as KWOK's kwokctl makes it.

KWOK uses a CA with CN `kwok-ca` and a single certificate (CN `kwok-admin`, O `system:masters`)
that serves the API server and authenticates the admin user. ECDSA P-256 keeps generation around a
millisecond (RSA-2048 costs ~160 ms, a sixth of the whole `create cluster` budget).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kwok.ctl.paths import PKIPaths

SANS_DNS = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
)
SANS_IP = ("127.0.0.1", "::1")
TEN_YEARS = datetime.timedelta(days=3650)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    # notBefore a day back, as KWOK does, so clocks slightly off still accept the cert.
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=24))
        .not_valid_after(now + TEN_YEARS)
    )


def generate_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("kwok-ca")
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def sign_cert(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    user: str,
    groups: tuple[str, ...],
    extra_sans: tuple[str, ...] = (),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate usable both to serve (SANs) and to authenticate as `user` in `groups`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        + [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in SANS_DNS]
    for value in SANS_IP + extra_sans:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            sans.append(x509.DNSName(value))
    cert = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def write_pki(paths: PKIPaths, extra_sans: tuple[str, ...] = ()) -> None:
    """Create the CA and the admin certificate unless they exist (a restart keeps them)."""
    if paths.ca_crt.exists() and paths.admin_crt.exists():
        return
    paths.dir.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = generate_ca()
    cert, key = sign_cert(ca_cert, ca_key, "kwok-admin", ("system:masters",), extra_sans)
    _write(paths.ca_key, _pem_key(ca_key), 0o600)
    _write(paths.ca_crt, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(paths.admin_key, _pem_key(key), 0o600)
    _write(paths.admin_crt, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def load_ca(paths: PKIPaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(paths.ca_crt.read_bytes())
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def client_cert_pem(paths: PKIPaths, user: str, groups: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A client certificate for another user/group (`kwokctl get kubeconfig --user ...`)."""
    ca_cert, ca_key = load_ca(paths)
    cert, key = sign_cert(ca_cert, ca_key, user, groups)
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Whole or not at all: the API server may be starting and waiting for these files."""
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(partial, path)
