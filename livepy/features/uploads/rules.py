"""Validation rules for upload fields, declared like any rule:
``photo: Annotated[UploadedFile | None, Required(), FileSize(max="2MB"), Image()] = None``.

They check a single ``UploadedFile`` or every file of a ``list[UploadedFile]``, and they
judge the content the server saw (its size on disk, its sniffed type), never what the
browser claimed. Their failures land in the error bag like any validation message.
"""

from __future__ import annotations

import re
from typing import Any

from livepy.features.uploads.file import UploadedFile
from livepy.features.uploads.sniff import ALIASES, IMAGE_TYPES
from livepy.features.validation.rules import Rule

__all__ = ["FileSize", "FileType", "Image", "MaxFiles", "human_size", "parse_size"]

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*", re.I)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_size(size: int | str) -> int:
    """``2_000_000``, ``"500KB"`` or ``"2MB"`` (binary units) as a number of bytes."""
    if isinstance(size, int) and not isinstance(size, bool):
        if size < 1:
            raise ValueError("a size must be at least 1 byte")
        return size
    match = _SIZE.fullmatch(size) if isinstance(size, str) else None
    if match is None:
        raise ValueError(f"a size looks like 2_000_000, '500KB' or '2MB', not {size!r}")
    return max(1, int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()]))


def human_size(size: int) -> str:
    for unit in ("GB", "MB", "KB"):
        if size >= _UNITS[unit]:
            return f"{size / _UNITS[unit]:.3g} {unit}"
    return f"{size} bytes"


def _files(value: Any) -> list[UploadedFile]:
    if isinstance(value, UploadedFile):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, UploadedFile)]
    return []


class FileSize(Rule):
    """Every file at most ``max`` (bytes, or ``"2MB"``); also caps the upload while it streams."""

    code = "file_size"
    default_message = "The {field} must not be larger than {max}."

    def __init__(self, max: int | str, *, message: str | None = None) -> None:
        super().__init__(message=message)
        self.max_bytes = parse_size(max)

    def passes(self, value: Any) -> bool:
        return all(
            f.error != "upload_too_large" and (f.failed or f.size <= self.max_bytes)
            for f in _files(value)
        )

    def params(self) -> dict[str, Any]:
        return {"max": human_size(self.max_bytes)}


class FileType(Rule):
    """Every file's content is one of ``types`` (``"png"``, ``"pdf"`` or ``"image/png"``)."""

    code = "file_type"

    def __init__(self, *types: str, message: str | None = None) -> None:
        if not types:
            raise ValueError("FileType needs at least one type")
        super().__init__(message=message)
        self.types = frozenset(ALIASES.get(t.lower(), t.lower()) for t in types)
        self.names = ", ".join(types)

    def template(self) -> str:
        return "The {field} must be a file of type: {types}."

    def passes(self, value: Any) -> bool:
        return all(f.failed or f.content_type in self.types for f in _files(value))

    def params(self) -> dict[str, Any]:
        return {"types": self.names}


class Image(FileType):
    """Every file is a PNG, JPEG, GIF or WebP image, by its content."""

    code = "image"

    def __init__(self, *, message: str | None = None) -> None:
        super().__init__(*sorted(IMAGE_TYPES), message=message)

    def template(self) -> str:
        return "The {field} must be an image (PNG, JPEG, GIF or WebP)."


class MaxFiles(Rule):
    """A ``list[UploadedFile]`` field holds at most ``max`` files."""

    code = "max_files"
    default_message = "The {field} may hold at most {max} files."

    def __init__(self, max: int, *, message: str | None = None) -> None:
        if max < 1:
            raise ValueError("MaxFiles needs a maximum of at least 1")
        super().__init__(message=message)
        self.max = max

    def passes(self, value: Any) -> bool:
        files = _files(value)
        too_many = any(f.error == "upload_too_many" for f in files)
        return not too_many and len([f for f in files if not f.failed]) <= self.max

    def params(self) -> dict[str, Any]:
        return {"max": self.max}
