"""The office's Ed25519 signature over payment payloads: keys, signing and verification."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def generate_private_key() -> str:
    """A new private key as base64 of its 32 raw bytes."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()


def public_key_of(private_b64: str) -> str:
    """The base64 raw public key that matches a base64 private key."""
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(private_b64: str, payload: str) -> str:
    """The base64 signature of the UTF-8 payload."""
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.sign(payload.encode("utf-8"))).decode()


def verify(public_b64: str, payload: str, signature_b64: str) -> bool:
    """Whether the signature is the office's over exactly this payload."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        key.verify(base64.b64decode(signature_b64, validate=True), payload.encode("utf-8"))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
