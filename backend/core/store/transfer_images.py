"""The images of exported and imported messages: `"images": [{"mime", "size", "data"}]` on a
user message, `data` being the image's bytes in base64 (checked again by those bytes on
import, as an upload is)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from backend.core.errors import AppError
from backend.core.store import images as image_rows
from backend.core.store.models import Image


def exported_images(session: Session, message_ids: list[str]) -> dict[str, list[dict]]:
    """Each message's images as the export writes them."""
    return as_exported(image_rows.image_bytes(session, message_ids))


def as_exported(found: dict[str, list[tuple[str, bytes]]]) -> dict[str, list[dict]]:
    """(mime, bytes) by message as the export writes them: mime, size and base64 data."""
    return {
        message_id: [
            {"mime": mime, "size": len(data), "data": base64.b64encode(data).decode("ascii")}
            for mime, data in images
        ]
        for message_id, images in found.items()
    }


def parsed_images(item: dict[str, Any], where: str, fail: Any) -> list[bytes]:
    """A file's message `images`, decoded and checked; `fail(where, problem)` makes the error."""
    raw = item.get("images")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > image_rows.MAX_IMAGES_PER_MESSAGE:
        limit = image_rows.MAX_IMAGES_PER_MESSAGE
        raise fail(f"{where}.images", f"must be a list of at most {limit} images")
    decoded = []
    for index, image in enumerate(raw):
        here = f"{where}.images[{index}]"
        data = image.get("data") if isinstance(image, dict) else None
        try:
            if not isinstance(data, str):
                raise ValueError("no data")
            decoded.append(base64.b64decode(data, validate=True))
            image_rows.checked_image(decoded[-1])
        except (ValueError, binascii.Error) as exc:
            raise fail(here, "must be an object whose `data` is an image in base64") from exc
        except AppError as exc:
            raise fail(here, exc.message) from exc
    return decoded


def insert_images(session: Session, images: dict[str, list[bytes]], now: datetime) -> None:
    """Store imported images under their (final) message ids."""
    rows = [
        image_rows.new_image(data, now, message_id, position)
        for message_id, datas in images.items()
        for position, data in enumerate(datas)
    ]
    for start in range(0, len(rows), 100):
        batch = rows[start : start + 100]
        session.execute(
            insert(Image.__table__),
            [{c.key: getattr(row, c.key) for c in Image.__table__.columns} for row in batch],
        )
