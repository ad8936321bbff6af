"""PII at rest and on screen: national ID and mobile numbers are encrypted, blind-indexed and masked.

Encryption is AES-256-GCM (``cryptography``) with a random nonce per value, so equal plaintexts give
different ciphertexts; lookups and duplicate checks use a keyed HMAC-SHA256 blind index instead. The
masked form is stored beside the ciphertext so list pages never decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum.cn import ric

_VERSION = b"\x01"
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class FieldCipher:
    """Encrypts and indexes PII fields with one 32-byte master key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("field key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(hashlib.sha256(b"wealthcrm/enc/" + key).digest())
        self._index_key = hashlib.sha256(b"wealthcrm/index/" + key).digest()

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), None)

    def decrypt(self, token: bytes) -> str:
        if not token or token[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(token[1:13], token[13:], None).decode("utf-8")

    def blind_index(self, plaintext: str) -> str:
        return hmac.new(self._index_key, plaintext.encode("utf-8"), hashlib.sha256).hexdigest()


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured base64 key, else the key file in data_dir (created, mode 0600, on first use)."""
    if configured:
        return base64.b64decode(configured)
    path = data_dir / "field.key"
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(key).decode())
    return key


def normalize_national_id(value: str) -> str:
    return value.strip().upper()


def is_valid_national_id(value: str) -> bool:
    """18 characters with a valid GB 11643 check digit and a real birth date (python-stdnum)."""
    return len(value) == 18 and bool(ric.is_valid(value))


def normalize_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 / 86 country prefix."""
    digits = re.sub(r"[\s\-()]", "", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def is_valid_mobile(value: str) -> bool:
    """A mainland mobile number: 11 digits starting 13–19."""
    return bool(MOBILE_RE.match(value))


def mask_national_id(value: str) -> str:
    """First 6 and last 4 characters shown: 110105********002X."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str) -> str:
    """138****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
