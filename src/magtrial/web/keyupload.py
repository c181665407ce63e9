"""An unblinding key uploaded with its passphrase, opened in memory for one request and then dropped.

Neither the key file nor the passphrase is written to disk, kept in the session, or logged.
"""

from __future__ import annotations

from fastapi import UploadFile

from magtrial import crypto
from magtrial.errors import ValidationError

MAX_KEY_BYTES = 64 * 1024


async def unlocked_key(upload: UploadFile | None, passphrase: str) -> crypto.UnlockedKey:
    if upload is None or not upload.filename:
        raise ValidationError("choose the key file (.key) to upload")
    data = await upload.read(MAX_KEY_BYTES + 1)
    await upload.close()
    if len(data) > MAX_KEY_BYTES:
        raise ValidationError("that file is too large to be a magtrial key file")
    if not passphrase:
        raise ValidationError("type the key's passphrase")
    return crypto.unlock_bytes(data, passphrase, f"the key file {upload.filename!r}")
