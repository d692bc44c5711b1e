"""API keys: generation, hashing and constant-time verification.

A key looks like `bo_3f9c2a7b_<40 random characters>`. The part between the underscores is
its public prefix, used to find the key and to revoke it; only a SHA-256 hash of the whole
key is stored. Keys carry 238 bits of randomness, so a fast hash is sufficient: there is
nothing to brute-force that a slow hash would protect.
"""

import hashlib
import hmac
import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_KEY = re.compile(r"^bo_([0-9a-f]{8})_([A-Za-z0-9]{40})$")


def generate_key() -> tuple[str, str]:
    """A new key and its prefix."""
    prefix = secrets.token_hex(4)
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(40))
    return f"bo_{prefix}_{secret}", prefix


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def verify_key(key: str, stored_hash: str) -> bool:
    return verify_hashed(hash_key(key), stored_hash)


def verify_hashed(key_hash: str, stored_hash: str) -> bool:
    """`verify_key` for a key already hashed (`hash_key`): a request's key is hashed once,
    however many stored hashes it is compared with."""
    return hmac.compare_digest(key_hash, stored_hash)
