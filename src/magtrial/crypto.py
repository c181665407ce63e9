"""Unblinding keys and the sealed allocation (libsodium via PyNaCl).

Why: the participant may own the whole database file, so the allocation cannot sit there in
clear. At creation it is encrypted to each of the trial's unblinding keys with a libsodium
*sealed box* (X25519 + XSalsa20-Poly1305, anonymous sender): anyone can encrypt to a public
key, only the private key opens it. The database keeps the public keys and the boxes; each
private key lives in a key file, itself encrypted with a key derived from the holder's
passphrase by Argon2id. The plaintext is exactly the bytes the published commitment hashes
(``core.allocation.canonical_bytes``), so opening a box and checking the commitment is one step,
and its length is the same for every allocation the design allows (no length leak).

Key file (JSON, mode 0600): format, version, purpose, owner, public key (hex), fingerprint
(SHA-256 of the public key, hex), Argon2id parameters and salt, and the secret box of the
private key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

from magtrial.errors import Forbidden, ValidationError

KEY_FORMAT = "magtrial-unblinding-key"
PURPOSES = ("pharmacist", "emergency")
MIN_PASSPHRASE = 10
_KDF = nacl.pwhash.argon2id


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def short(fp: str) -> str:
    """A fingerprint as people read it aloud: the first 16 hex digits in groups of four."""
    return " ".join(fp[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class PublicKeyInfo:
    purpose: str
    owner: str
    public_key: str  # hex
    fingerprint: str


@dataclass(frozen=True)
class UnlockedKey:
    """A private key in memory for one command or request; never written anywhere decrypted."""

    info: PublicKeyInfo
    private: PrivateKey

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint


def generate_key_file(path: Path, purpose: str, owner: str, passphrase: str) -> PublicKeyInfo:
    """Create a key pair; write the private half, passphrase-protected, to ``path`` (refusing to overwrite)."""
    if purpose not in PURPOSES:
        raise ValidationError(f"key purpose must be {' or '.join(PURPOSES)}; got {purpose!r}")
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(f"the key passphrase must be at least {MIN_PASSPHRASE} characters")
    private = PrivateKey.generate()
    public = bytes(private.public_key)
    info = PublicKeyInfo(purpose, owner, public.hex(), fingerprint(public))
    salt = nacl.utils.random(_KDF.SALTBYTES)
    ops, mem = _KDF.OPSLIMIT_INTERACTIVE, _KDF.MEMLIMIT_INTERACTIVE
    box = nacl.secret.SecretBox(_KDF.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt, ops, mem))
    document = {
        "format": KEY_FORMAT,
        "v": 1,
        "purpose": purpose,
        "owner": owner,
        "public_key": info.public_key,
        "fingerprint": info.fingerprint,
        "kdf": {"alg": "argon2id13", "opslimit": ops, "memlimit": mem, "salt": _b64(salt)},
        "secret": _b64(box.encrypt(bytes(private))),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} already exists; choose another file (a key file is never overwritten)") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
    return info


def read_public(path: Path) -> PublicKeyInfo:
    """The public half of a key file (no passphrase needed), to register it."""
    doc = _read(path)
    return PublicKeyInfo(doc["purpose"], doc["owner"], doc["public_key"], doc["fingerprint"])


def unlock(path: Path, passphrase: str) -> UnlockedKey:
    """Open a key file with its passphrase; a wrong passphrase is a clear error, not a crash."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"no such key file: {path}") from None
    return unlock_bytes(data, passphrase, f"the key file {path}")


def unlock_bytes(data: bytes, passphrase: str, what: str = "the uploaded key file") -> UnlockedKey:
    """Open a key file's contents (a file, a web upload) with its passphrase, writing them nowhere."""
    doc = _parse(data, what)
    kdf = doc["kdf"]
    try:
        secret_key = _KDF.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), _unb64(kdf["salt"]), kdf["opslimit"], kdf["memlimit"]
        )
        private = PrivateKey(nacl.secret.SecretBox(secret_key).decrypt(_unb64(doc["secret"])))
    except nacl.exceptions.CryptoError:
        raise Forbidden(f"wrong passphrase for {what}") from None
    info = PublicKeyInfo(doc["purpose"], doc["owner"], doc["public_key"], doc["fingerprint"])
    if bytes(private.public_key).hex() != info.public_key or fingerprint(bytes(private.public_key)) != info.fingerprint:
        raise ValidationError(f"{what}: the private key does not match the public key in the file (edited?)")
    return UnlockedKey(info, private)


def seal(plaintext: bytes, recipients: list[PublicKeyInfo]) -> str:
    """One sealed box per recipient, as JSON: ``{"v": 1, "boxes": {fingerprint: base64}}``."""
    if not recipients:
        raise ValidationError("an allocation must be sealed to at least one key")
    boxes = {
        r.fingerprint: _b64(SealedBox(PublicKey(bytes.fromhex(r.public_key))).encrypt(plaintext)) for r in recipients
    }
    return json.dumps({"v": 1, "boxes": boxes}, sort_keys=True)


def recipients_of(sealed: str) -> list[str]:
    return sorted(json.loads(sealed)["boxes"])


def open_sealed(sealed: str, key: UnlockedKey, what: str) -> bytes:
    """Decrypt ``sealed`` with ``key``; a key that is not a recipient is refused, naming both."""
    boxes = json.loads(sealed)["boxes"]
    box = boxes.get(key.fingerprint)
    if box is None:
        raise Forbidden(
            f"the key {short(key.fingerprint)} ({key.info.purpose}, {key.info.owner}) is not one of the keys "
            f"{what} was sealed to ({', '.join(short(f) for f in sorted(boxes))})"
        )
    try:
        return SealedBox(key.private).decrypt(_unb64(box))
    except nacl.exceptions.CryptoError:
        raise Forbidden(f"the sealed allocation of {what} does not open with this key (altered?)") from None


def _read(path: Path) -> dict:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"no such key file: {path}") from None
    return _parse(data, str(path))


def _parse(data: bytes, what: str) -> dict:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError(f"{what} is not a magtrial key file") from None
    if not isinstance(doc, dict) or doc.get("format") != KEY_FORMAT or doc.get("v") != 1:
        raise ValidationError(f"{what} is not a magtrial key file")
    return doc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
