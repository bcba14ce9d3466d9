"""Photo evidence for audits: checked by content, re-encoded, stripped of EXIF (location).

Only JPEG, PNG and WebP are accepted, whatever the file is called; each is decoded, turned
upright, re-encoded as a fresh JPEG without metadata and stored under a random name.
"""

import io
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
ALLOWED = {"JPEG", "PNG", "WEBP"}


class PhotoRefused(ValueError):
    pass


def store_photo(data: bytes, directory: Path) -> str:
    """Save an uploaded image safely; returns its new file name."""
    if len(data) > MAX_BYTES:
        raise PhotoRefused(
            f"the photo is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB"
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ALLOWED:
                raise PhotoRefused(f"only JPEG, PNG or WebP photos, not {kind or 'this file'}")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRefused("the photo has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError):
        raise PhotoRefused("this file is not a readable JPEG, PNG or WebP photo") from None
    upright.thumbnail((2000, 2000))
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".jpg"
    upright.save(directory / name, "JPEG", quality=85)  # a new file: no EXIF, no GPS
    return name
