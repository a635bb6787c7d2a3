"""What a file is, by its first bytes: the browser's type and the file name are never trusted.

A file named ``photo.png`` that starts like a PDF is a PDF; a file whose bytes match no
known signature is ``application/octet-stream``. Only the types listed here can pass a
``FileType`` rule or get a preview.
"""

from __future__ import annotations

__all__ = ["EXTENSIONS", "IMAGE_TYPES", "OCTET_STREAM", "SNIFF_BYTES", "sniff"]

OCTET_STREAM = "application/octet-stream"
# Enough bytes for every signature below.
SNIFF_BYTES = 16

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# The extension a stored file gets from its detected type (never from the client's name).
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    OCTET_STREAM: ".bin",
}

# Short names accepted by FileType("png", "pdf") next to full media types.
ALIASES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


def sniff(head: bytes) -> str:
    """The media type of a file that starts with ``head`` (at least SNIFF_BYTES if it has them)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return OCTET_STREAM
