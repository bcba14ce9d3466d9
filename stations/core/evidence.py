"""Photo evidence for audits: checked by content, re-encoded, stripped of EXIF (location).

Only JPEG, PNG and WebP are accepted, whatever the file is called; each is decoded, turned
upright, re-encoded as a fresh JPEG without metadata and stored under a random name.
"""

import io
import secrets
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
ALLOWED = {"JPEG", "PNG", "WEBP"}


class PhotoRefused(ValueError):
    pass


def prepare_photo(data: bytes) -> bytes:
    """Check an uploaded image and re-encode it (upright, no metadata) as JPEG bytes, writing
    nothing: an audit stores its photos only once everything else in it is accepted."""
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
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85)  # a new file: no EXIF, no GPS
    return out.getvalue()


def save_photos(prepared: dict[str, bytes], directory: Path) -> dict[str, str]:
    """Write prepared photos under random names: {item: file name}. All or none: if one
    cannot be written, those already written are removed before the error goes on."""
    directory.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    try:
        for item, jpeg in prepared.items():
            name = secrets.token_hex(16) + ".jpg"
            with open(directory / name, "xb") as f:
                names[item] = name
                f.write(jpeg)
    except BaseException:
        remove_photos(names.values(), directory)
        raise
    return names


def remove_photos(names: Iterable[str], directory: Path) -> None:
    """Remove written photos whose audit was not stored after all (missing ones are fine)."""
    for name in names:
        (directory / name).unlink(missing_ok=True)


def store_photo(data: bytes, directory: Path) -> str:
    """Save one uploaded image safely; returns its new file name."""
    return save_photos({"": prepare_photo(data)}, directory)[""]
