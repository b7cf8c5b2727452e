"""Images of user messages: recognised by their bytes, kept in the database beside them.

An upload is stored at once with no message; the message that is sent with it takes it.
A message that reuses an image another message already has (an edit keeps the original's
images) gets its own copy, so deleting either message never takes the other's images.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.image_types import image_type
from backend.core.store.models import Image, Message

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGES_PER_MESSAGE = 4


class ImageTooLarge(AppError):
    code = "image_too_large"
    http_status = 413


def too_large() -> ImageTooLarge:
    return ImageTooLarge(f"An image may be at most {MAX_IMAGE_BYTES // 2**20} MiB")


def checked_image(data: bytes) -> str:
    """The MIME type of an image the app accepts; ImageTooLarge or BadRequest otherwise."""
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large()
    mime = image_type(data[:12])
    if mime is None:
        raise BadRequest(
            "Only PNG, JPEG, WebP and GIF images can be attached", code="unsupported_image"
        )
    return mime


def checked_ids(image_ids: Any) -> list[str]:
    if not isinstance(image_ids, list) or not all(isinstance(i, str) for i in image_ids):
        raise BadRequest("`images` must be a list of image ids", code="invalid_field")
    if len(image_ids) > MAX_IMAGES_PER_MESSAGE:
        raise BadRequest(
            f"A message may carry at most {MAX_IMAGES_PER_MESSAGE} images", code="too_many_images"
        )
    return image_ids


def new_image(
    data: bytes, now: datetime, message_id: str | None = None, position: int = 0
) -> Image:
    mime = checked_image(data)
    return Image(
        id=uuid4().hex,
        message_id=message_id,
        position=position,
        mime=mime,
        size=len(data),
        data=bytes(data),
        created_at=now,
    )


def attach(session: Session, message_id: str, image_ids: Sequence[str], now: datetime) -> None:
    """Give the message these images, in this order (copies of ones another message has)."""
    for position, image_id in enumerate(image_ids):
        image = session.get(Image, image_id)
        if image is None:
            raise NotFound(f"no image {image_id!r}")
        if image.message_id is None:
            image.message_id, image.position = message_id, position
        else:
            session.add(new_image(image.data, now, message_id, position))


def image_meta(image: Any) -> dict[str, Any]:
    return {"id": image.id, "mime": image.mime, "size": image.size}


def images_of(session: Session, message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Each message's images (id, mime, size), in order; messages without any left out."""
    rows = _rows_by_message(session, message_ids, Image.id, Image.mime, Image.size)
    return {key: [image_meta(row) for row in found] for key, found in rows.items()}


def conversation_images(session: Session, conversation_id: str) -> dict[str, list[dict]]:
    """The images (id, mime, size) of every message of a conversation, by message: one
    indexed query however long the conversation (no list of its message ids)."""
    stmt = (
        select(Image.message_id, Image.id, Image.mime, Image.size)
        .join(Message, Message.id == Image.message_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Image.message_id, Image.position)
    )
    found: dict[str, list[dict]] = {}
    for row in session.execute(stmt):
        found.setdefault(row.message_id, []).append(image_meta(row))
    return found


def image_bytes(session: Session, message_ids: Iterable[str]) -> dict[str, list[tuple[str, bytes]]]:
    """Each message's images as (mime, bytes), in order."""
    rows = _rows_by_message(session, message_ids, Image.mime, Image.data)
    return {key: [(row.mime, row.data) for row in found] for key, found in rows.items()}


def _rows_by_message(session: Session, message_ids: Iterable[str], *columns: Any) -> dict:
    """These columns of the messages' images, grouped by message, in each one's order."""
    ids = list(message_ids)
    found: dict[str, list[Any]] = {}
    if not ids:
        return found
    stmt = (
        select(Image.message_id, *columns)
        .where(Image.message_id.in_(ids))
        .order_by(Image.message_id, Image.position)
    )
    for row in session.execute(stmt):
        found.setdefault(row.message_id, []).append(row)
    return found


def conversation_has_images(session: Session, conversation_id: str) -> bool:
    joined = exists().where(
        Image.message_id == Message.id, Message.conversation_id == conversation_id
    )
    return bool(session.scalar(select(joined)))


def drop_unattached(session: Session) -> int:
    """Uploads no message took (the app was closed before sending them)."""
    stmt = delete(Image).where(Image.message_id.is_(None))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount
