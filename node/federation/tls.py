"""The node's TLS certificate for the peer API, and pinning.

Each node has a self-signed certificate (ECDSA P-256) made once and kept in
the data folder; its ``cert_pin`` is SHA-256 of the certificate's DER bytes
and travels in the node's signed membership record. A client first fetches a
peer's certificate, checks it against the pin, then trusts exactly that
certificate (no CA, no host names): TLS pinned to the member's identity.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .errors import PeerRejected, PeerUnavailable

CERT_FILE = "peer-cert.pem"
KEY_FILE = "peer-key.pem"


def ensure_certificate(root: Path, common_name: str) -> tuple[Path, Path, bytes]:
    """(cert path, key path, pin) — created on first use."""
    cert_path, key_path = Path(root) / CERT_FILE, Path(root) / KEY_FILE
    if not cert_path.exists() or not key_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365 * 30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path, pin_of(cert_path.read_bytes())


def pin_of(pem: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def fetch_pinned_context(host: str, port: int, pin: bytes, node: str, timeout: float = 5.0) -> ssl.SSLContext:
    """(Blocking) handshake once, check the peer's certificate against ``pin``, trust only it."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with probe.wrap_socket(sock) as tls:
                der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        raise PeerUnavailable(node, f"cannot reach {host}:{port} ({exc})") from exc
    if der is None or hashlib.sha256(der).digest() != pin:
        raise PeerRejected(node, f"{host}:{port} presented a certificate that does not match the member's pin")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(der))
    return ctx
