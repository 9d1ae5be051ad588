"""A throwaway C2PA signing chain for development and the tests (``make up`` writes one
to ``var/signals/``): a root CA and a leaf meeting the C2PA certificate profile (digital
signature key usage, the e-mail protection extended key usage the SDK accepts by
default, key identifiers), made with ``cryptography``. Files stamped with it validate
as "Valid", never "Trusted": production signs with a certificate from a CA on the C2PA
trust list."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_USAGE = dict.fromkeys(
    (
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "encipher_only",
        "decipher_only",
    ),
    False,
)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Consentry development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def signing_chain(directory: Path, *, keep: bool = False) -> tuple[Path, Path, Path]:
    """(chain, key, root) PEM files in ``directory``: the chain is the leaf, then the
    root. With ``keep``, a chain already there is kept (files stamped with it stay
    "Valid" across restarts) unless it expires within a day."""
    chain, key, anchor = directory / "chain.pem", directory / "key.pem", directory / "root.pem"
    if keep and _lasting(chain) and key.exists() and anchor.exists():
        return chain, key, anchor
    directory.mkdir(parents=True, exist_ok=True)
    root_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    root = _certificate(
        _name("Consentry development root"),
        root_key,
        None,
        x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **_USAGE),
    )
    leaf = _certificate(
        _name("Consentry development signer"),
        leaf_key,
        (root, root_key),
        x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **_USAGE),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
    )
    pem = serialization.Encoding.PEM
    chain.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    anchor.write_bytes(root.public_bytes(pem))
    key.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key.chmod(0o600)
    return chain, key, anchor


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    usage: x509.KeyUsage,
    *more: x509.ExtensionType,
) -> x509.Certificate:
    """A certificate for 30 days: a CA when ``issuer`` is None (self-signed), else a leaf
    issued by it, with key identifiers as the C2PA profile asks."""
    now = datetime.datetime.now(datetime.UTC)
    signer = key if issuer is None else issuer[1]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer[0].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for extension in more:
        builder = builder.add_extension(extension, critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def _lasting(chain: Path) -> bool:
    if not chain.exists():
        return False
    leaf = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    now = datetime.datetime.now(datetime.UTC)
    return leaf.not_valid_after_utc > now + datetime.timedelta(days=1)
