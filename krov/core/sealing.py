"""Sealing: content encrypted to public keys whose private halves never reach the server.

The construction is HPKE (RFC 9180) in base mode, single shot: DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM, from `cryptography` here and from the vendored @hpke/core in the
readers' browsers (krov/core/static/krov/js/sealed.js). Nothing is composed here: this
module only names the suite, fixes the text encoding and the context strings (HPKE's
`info`, which binds a ciphertext to the case and the field it was sealed for).

Wire format, shared with sealed.js:
- a sealed value is ``"k1." + base64url(enc || ciphertext)`` (no padding);
- a public key is the raw 32-byte X25519 key, base64url;
- the requester's link key wraps with AES-256-GCM under HKDF-SHA256(link token) as
  ``"s1." + base64url(nonce || ciphertext)``, the case's id as associated data.

The server seals (at intake, when a message passes through) and never opens: `open_sealed`
exists for the tests, the migration command and a custodian that holds a key elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SEALED_PREFIX = "k1."
WRAPPED_PREFIX = "s1."
KEY_LENGTH = 32
ENC_LENGTH = 32
TAG_LENGTH = 16
CANONICAL_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


class SealingError(ValueError):
    """A key or a sealed value that is not what it claims to be."""


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealingError("not base64url") from None


def public_key(text: str) -> X25519PublicKey:
    """A public key from its base64url form; SealingError for anything else."""
    raw = b64decode(text or "")
    if len(raw) != KEY_LENGTH:
        raise SealingError("an X25519 public key has 32 bytes")
    return X25519PublicKey.from_public_bytes(raw)


def is_public_key(text: str) -> bool:
    try:
        public_key(text)
    except SealingError:
        return False
    return True


def is_usable_public_key(text: str) -> bool:
    """A public key in its one canonical spelling (43 base64url characters, no padding) that
    a value can really be sealed to: a low-order point (all zeros, say) fails the trial."""
    if not isinstance(text, str) or not CANONICAL_KEY.fullmatch(text):
        return False
    try:
        if b64encode(b64decode(text)) != text:
            return False
        SUITE.encrypt(b"", public_key(text), b"krov/v1/key-check")
    except (SealingError, ValueError):
        return False
    return True


def fingerprint(text: str) -> str:
    """Four groups of four hex digits of the key's SHA-256: what two people read aloud to
    check that a key is the one its owner made."""
    digest = hashlib.sha256(b64decode(text)).hexdigest().upper()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def is_sealed(value: str) -> bool:
    """Whether `value` looks like a sealed value (shape only; nothing here can open it)."""
    if not isinstance(value, str) or not value.startswith(SEALED_PREFIX):
        return False
    try:
        raw = b64decode(value[len(SEALED_PREFIX) :])
    except SealingError:
        return False
    return len(raw) >= ENC_LENGTH + TAG_LENGTH


@dataclass(frozen=True)
class KeyPair:
    private: bytes  # raw 32 bytes; keep only in memory and drop as soon as it is wrapped
    public: str  # base64url

    @classmethod
    def generate(cls) -> KeyPair:
        key = X25519PrivateKey.generate()
        return cls(
            private=key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            public=b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
        )


def seal_bytes(plaintext: bytes, public: str, info: str) -> str:
    return SEALED_PREFIX + b64encode(SUITE.encrypt(plaintext, public_key(public), info.encode()))


def seal(plaintext: str, public: str, info: str) -> str:
    """`plaintext` sealed to `public` for the context `info`: only the private half opens it."""
    return seal_bytes(plaintext.encode("utf-8"), public, info)


def open_bytes(sealed: str, private: bytes, info: str) -> bytes:
    if not is_sealed(sealed):
        raise SealingError("not a sealed value")
    key = X25519PrivateKey.from_private_bytes(private)
    try:
        return SUITE.decrypt(b64decode(sealed[len(SEALED_PREFIX) :]), key, info.encode())
    except (InvalidTag, ValueError) as error:
        raise SealingError("this key or context does not open the value") from error


def open_sealed(sealed: str, private: bytes, info: str) -> str:
    return open_bytes(sealed, private, info).decode("utf-8")


# --- the requester's link key ---------------------------------------------------------------


def requester_key(token: str, case_id: str) -> bytes:
    """The key a requester's secret link opens: derived from the link, never stored."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_LENGTH,
        salt=None,
        info=f"krov/v1/requester/{case_id}".encode(),
    ).derive(token.encode("utf-8"))


def wrap(plaintext: bytes, key: bytes, case_id: str) -> str:
    nonce = os.urandom(12)
    return WRAPPED_PREFIX + b64encode(
        nonce + AESGCM(key).encrypt(nonce, plaintext, case_id.encode())
    )


def unwrap(wrapped: str, key: bytes, case_id: str) -> bytes:
    if not (isinstance(wrapped, str) and wrapped.startswith(WRAPPED_PREFIX)):
        raise SealingError("not a wrapped value")
    raw = b64decode(wrapped[len(WRAPPED_PREFIX) :])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], case_id.encode())
    except (InvalidTag, ValueError) as error:
        raise SealingError("this link does not open the value") from error


# --- context strings (HPKE info): one per kind of thing sealed --------------------------------


def content_info(case_id: str, field: str) -> str:
    """For case content: `field` is request.description, request.region,
    request.contact, message, message.attachment or note."""
    return f"krov/v1/content/{case_id}/{field}"


def case_key_info(case_id: str) -> str:
    """For a case's private key wrapped to a reader (the team key or a volunteer)."""
    return f"krov/v1/case-key/{case_id}"


def outbox_case_key_info(outbox_public: str, message_id: str) -> str:
    """For a case's private key handed to one running worker so that it can open one waiting
    answer itself (krov/telegram/outbox_keys.py): bound to that worker key and that answer."""
    return f"krov/v1/outbox-case-key/{outbox_public}/{message_id}"


def custodian_proof_info(custodian_public: str) -> str:
    """For the challenge the server seals to a key custodian's key: opening it proves that a
    caller holds that key, not only the custodian's token."""
    return f"krov/v1/custodian-proof/{custodian_public}"


def team_key_info(team_public: str) -> str:
    """For the team's private key wrapped to one coordinator's reader key; the team key is
    named by its public half, which its maker knows before the server stores it."""
    return f"krov/v1/team-key/{team_public}"


# --- a reader key locked under a passphrase (the browser's recovery file, the custodian's key) --

READER_KEY_AAD = "krov/v1/reader-key/"
# What sealed.js writes into new recovery files (N = 2^17, r = 8, p = 1: 128 MiB), and the
# limits it accepts when reading one.
SCRYPT_PARAMS = {"N": 2**17, "r": 8, "p": 1}
SCRYPT_LIMITS = {"min_log_n": 14, "max_log_n": 18, "max_r": 8, "max_p": 4}
NONCE_LENGTH = 12


def public_of(private: bytes) -> str:
    """The base64url public half of a raw X25519 private key."""
    key = X25519PrivateKey.from_private_bytes(private)
    return b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def _passphrase_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    import unicodedata

    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    secret = unicodedata.normalize("NFKC", passphrase).encode("utf-8")
    return Scrypt(salt=salt, length=KEY_LENGTH, n=n, r=r, p=p).derive(secret)


def lock_key(private: bytes, passphrase: str, *, label: str = "", params=None) -> dict:
    """A raw private key locked under a passphrase, in the recovery-file format sealed.js
    reads and writes (scrypt, then AES-256-GCM with the public key as associated data)."""
    if len(private) != KEY_LENGTH:
        raise SealingError("a private key has 32 bytes")
    if not passphrase:
        raise SealingError("a passphrase is needed")
    params = params or SCRYPT_PARAMS
    public = public_of(private)
    salt, nonce = os.urandom(16), os.urandom(NONCE_LENGTH)
    key = _passphrase_key(passphrase, salt, params["N"], params["r"], params["p"])
    ct = AESGCM(key).encrypt(nonce, private, (READER_KEY_AAD + public).encode())
    return {
        "krov": "reader-key",
        "v": 1,
        "kdf": "scrypt",
        "N": params["N"],
        "r": params["r"],
        "p": params["p"],
        "salt": b64encode(salt),
        "nonce": b64encode(nonce),
        "ct": b64encode(ct),
        "public": public,
        "label": str(label),
    }


def unlock_key(locked: dict, passphrase: str) -> bytes:
    """The raw private key from a recovery file (its parsed JSON) and its passphrase."""
    try:
        n, r, p = int(locked["N"]), int(locked["r"]), int(locked["p"])
        valid = (
            locked.get("krov") == "reader-key"
            and locked.get("v") == 1
            and locked.get("kdf") == "scrypt"
            and n > 0
            and n & (n - 1) == 0
            and SCRYPT_LIMITS["min_log_n"] <= n.bit_length() - 1 <= SCRYPT_LIMITS["max_log_n"]
            and 1 <= r <= SCRYPT_LIMITS["max_r"]
            and 1 <= p <= SCRYPT_LIMITS["max_p"]
            and isinstance(locked.get("public"), str)
        )
        salt, nonce, ct = (b64decode(locked[name]) for name in ("salt", "nonce", "ct"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SealingError("this is not a Krov key file") from None
    if not valid or len(salt) < 16 or len(nonce) != NONCE_LENGTH or len(ct) != KEY_LENGTH + 16:
        raise SealingError("this is not a Krov key file")
    key = _passphrase_key(passphrase or "", salt, n, r, p)
    try:
        private = AESGCM(key).decrypt(nonce, ct, (READER_KEY_AAD + locked["public"]).encode())
    except InvalidTag:
        raise SealingError("wrong passphrase (or a damaged key file)") from None
    if public_of(private) != locked["public"]:
        raise SealingError("this key file's public key does not belong to its private key")
    return private
