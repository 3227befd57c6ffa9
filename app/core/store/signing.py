"""Model artifacts are pickles, and unpickling runs code: nothing is loaded unless its metadata
carries a valid HMAC-SHA256 made with the service's signing key. The metadata holds the
artifact's SHA-256, so the signature covers the bytes and the metadata together; whoever can
write the model directory but not read the key cannot make a file the service will load."""

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from loguru import logger

from app.config import MIN_KEY_LENGTH

SIGNATURE = "signature"
_KEY_BYTES = 32


def signature(metadata: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the metadata (without its signature) in a canonical JSON form."""
    unsigned = {k: v for k, v in metadata.items() if k != SIGNATURE}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def is_signed_by(metadata: dict[str, Any], key: bytes) -> bool:
    given = metadata.get(SIGNATURE)
    return isinstance(given, str) and hmac.compare_digest(given, signature(metadata, key))


def signing_key(configured: str | None, key_file: Path) -> bytes:
    """The configured key; without one, the key kept in `key_file`, made on first use (readable by
    this user only; the settings keep that file out of the model directory)."""
    if configured:
        return configured.encode()
    if not key_file.exists():
        _create_key_file(key_file)
    _refuse_shared(key_file)
    key = key_file.read_bytes().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ValueError(
            f"{key_file} holds a key of {len(key)} characters, fewer than {MIN_KEY_LENGTH}: "
            "delete it (a new one is made; saved models are then retrained) or set "
            "MODEL_SIGNING_KEY"
        )
    return key


def _refuse_shared(key_file: Path) -> None:
    """A key file that users outside its owner and group can read (or write), or that its group
    may write, is refused: whoever reads the key can sign a pickle the service then loads. The
    group may read it (secrets mounted for a group, as Kubernetes' fsGroup does); the file made
    here is readable by this user only."""
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o027:
        raise ValueError(
            f"{key_file} is open to other users (mode {mode:o}: others may read or write it, or "
            "its group may write it), and whoever reads the model "
            f"signing key can make a model this service loads: run `chmod 600 {key_file}` "
            "(and make sure no one else read it; if so, delete it: a new one is made and the "
            "saved models are retrained), or set MODEL_SIGNING_KEY"
        )


def _create_exclusively(key_file: Path, key: bytes) -> None:
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as f:
        f.write(key)


def _create_key_file(key_file: Path) -> None:
    """Writes a new key to a private temporary file, then links it into place: of two processes
    starting together, one key wins and both read it."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".key.")
    try:
        with os.fdopen(descriptor, "wb") as f:
            f.write(secrets.token_hex(_KEY_BYTES).encode())
        os.link(temporary, key_file)
    except FileExistsError:
        return
    except OSError:  # a file system without hard links: first to create the file wins
        _create_exclusively(key_file, Path(temporary).read_bytes())
    finally:
        os.unlink(temporary)
    logger.warning(
        "No MODEL_SIGNING_KEY set: made one in {}. Replicas sharing a model store need the same "
        "key: set MODEL_SIGNING_KEY.",
        key_file,
    )
