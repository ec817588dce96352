"""Uploaded files: signed scans and face photos hold personal data.

Checked by content (magic bytes), not by name; size-limited; photos re-encoded so EXIF and GPS
are gone; stored under MEDIA_ROOT, which has no URL: views stream files after a permission
check with `private_file_response`.
"""

import io
import mimetypes
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

SCAN_KINDS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
PHOTO_KINDS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_SCAN_BYTES = 10 * 1024 * 1024
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 800
# A phone photo is 12–50 megapixels; more is a decompression bomb (a small PNG or WebP that
# decodes to gigabytes). Checked from the header before anything is decoded.
MAX_PHOTO_PIXELS = 60_000_000
# Pillow's own guard, for every image any code opens: beyond this it refuses to decode.
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
# What a form sends besides its file (fields, multipart boundaries).
FORM_OVERHEAD_BYTES = 256 * 1024


def request_body_limit(max_bytes: int):
    """A view taking at most `max_bytes` of request body: mcnet.middleware.RequestBodyLimitMiddleware
    answers 413 to a larger one before reading it (settings.MCNET_MAX_REQUEST_BYTES otherwise)."""

    def decorate(view):
        view.max_request_bytes = max_bytes
        return view

    return decorate


def check_upload(upload, *, kinds: dict[str, str], max_bytes: int) -> str:
    """Return the file's real MIME type, or raise a ValidationError that says what is wrong."""
    if upload.size == 0:
        raise ValidationError(_("ファイルが空です。"), code="empty")
    if upload.size > max_bytes:
        raise ValidationError(
            _("ファイルが大きすぎます（上限 %(limit)d MB）。")
            % {"limit": max_bytes // (1024 * 1024)},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in kinds:
        allowed = "、".join(sorted({ext.upper() for ext in kinds.values()}))
        raise ValidationError(
            _(
                "このファイルの形式は受け付けられません。%(allowed)s のファイルを選んでください"
                "（ファイル名ではなく中身で判定しています）。"
            )
            % {"allowed": allowed},
            code="bad_type",
        )
    return kind.mime


def scan_upload(upload):
    """A signed paper's scan (PDF, JPEG or PNG), renamed by its content type."""
    mime = check_upload(upload, kinds=SCAN_KINDS, max_bytes=MAX_SCAN_BYTES)
    upload.name = f"scan.{SCAN_KINDS[mime]}"
    return upload


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        _("画像の画素数が多すぎます（上限 %(limit)d 万画素）。縮小してから選んでください。")
        % {"limit": MAX_PHOTO_PIXELS // 10_000},
        code="too_many_pixels",
    )


def photo_upload(upload) -> SimpleUploadedFile:
    """A face photo, re-encoded as JPEG: no EXIF, no GPS, no hidden payload, at most 800 px."""
    check_upload(upload, kinds=PHOTO_KINDS, max_bytes=MAX_PHOTO_BYTES)
    try:
        with Image.open(upload) as image:  # reads the header only: size known, nothing decoded
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise _too_many_pixels()
            # A JPEG is decoded at the smallest scale still larger than the thumbnail.
            image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant
            image = image.convert("RGB")
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85)  # no exif= argument: metadata dropped
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(
            _("画像を読み取れませんでした。別の写真を選んでください。"), code="bad_image"
        ) from exc
    return SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")


def private_file_response(
    field_file, *, download_name: str | None = None, as_attachment: bool = True
) -> FileResponse:
    """Stream a stored file to a user the caller has already authorized."""
    name = download_name or PurePath(field_file.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(
        field_file.open("rb"), as_attachment=as_attachment, filename=name, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
