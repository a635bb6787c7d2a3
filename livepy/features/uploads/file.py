"""UploadedFile: a state field's handle on a temporary upload.

In the snapshot it is only the upload id (a string), never the bytes. Everything else
(name, size, sniffed type) is read from what the server recorded when the file arrived,
so a browser cannot forge it. A file whose upload failed in the browser arrives as
``{"error": code, "name": ...}``; the uploads feature turns it into an error-bag message
and drops it from the field before anything else sees it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import IO, Any

from livepy.convert import ConversionError
from livepy.features.uploads.sniff import EXTENSIONS, IMAGE_TYPES, OCTET_STREAM
from livepy.features.uploads.store import ID_PATTERN, UploadStore, find_store, safe_name

__all__ = ["FAILURE_CODES", "UploadedFile"]

# What the browser may report about an upload that never arrived (see docs/reference/errors.md).
FAILURE_CODES = frozenset(
    {
        "upload_too_large",
        "upload_too_many",
        "upload_aborted",
        "upload_busy",
        "upload_storage_full",
        "upload_refused",
    }
)


class UploadedFile:
    """A temporary upload held in a field: ``photo: UploadedFile | None = None``."""

    __slots__ = ("_meta", "_preview", "error", "id", "name_hint")

    def __init__(self, upload_id: str, *, error: str | None = None, name: str = "") -> None:
        self.id = upload_id
        self.error = error  # a FAILURE_CODES code when the upload failed in the browser
        self.name_hint = name
        self._meta: dict[str, Any] | None = None
        self._preview: tuple[str, float] | None = None  # (url, when it was signed)

    # -- conversion (see livepy.convert) -----------------------------------------------

    @classmethod
    def __livepy_convert__(cls, value: Any, where: str) -> UploadedFile:
        if isinstance(value, str):
            if ID_PATTERN.fullmatch(value) is None:
                raise ConversionError(f"{where}: {value[:60]!r} is not an upload id")
            return cls(value)
        if isinstance(value, dict) and set(value) <= {"error", "name"} and "error" in value:
            code = value["error"] if value["error"] in FAILURE_CODES else "upload_refused"
            name = value.get("name")
            return cls("", error=code, name=safe_name(name) if isinstance(name, str) else "")
        raise ConversionError(f"{where}: expected an upload id, got {type(value).__name__}")

    def __livepy_dump__(self) -> Any:
        if self.error is not None:
            return {"error": self.error, "name": self.name_hint}
        return self.id

    # -- what the server recorded --------------------------------------------------------

    def _store(self) -> UploadStore | None:
        return find_store(self.id) if self.id else None

    def _recorded(self) -> dict[str, Any]:
        if self._meta is None:
            store = self._store()
            self._meta = (store.meta(self.id) if store is not None else None) or {}
        return self._meta

    def belongs_to(self, cid: str, field: str) -> bool:
        """Uploaded for this component's field (or made by the server for anyone)."""
        owner = self._recorded().get("owner")
        return owner is None or owner == [cid, field]

    @property
    def failed(self) -> bool:
        return self.error is not None

    def exists(self) -> bool:
        """The temporary bytes are still there (not failed, stored, deleted or cleaned up)."""
        store = self._store()
        return store is not None and bool(self._recorded()) and store.data_path(self.id).exists()

    @property
    def name(self) -> str:
        """The file name the browser gave (for display only: never use it as a path)."""
        return str(self._recorded().get("name") or self.name_hint or "file")

    @property
    def size(self) -> int:
        return int(self._recorded().get("size") or 0)

    @property
    def content_type(self) -> str:
        """The media type sniffed from the content (``application/octet-stream`` if unknown)."""
        return str(self._recorded().get("type") or OCTET_STREAM)

    @property
    def extension(self) -> str:
        """The extension that fits the detected content, such as ``.png``."""
        return EXTENSIONS.get(self.content_type, ".bin")

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES

    @property
    def path(self) -> Path:
        """The temporary file. It goes away after the store's ``max_age``: store it first."""
        store = self._require()
        return store.data_path(self.id)

    def read(self) -> bytes:
        return self.path.read_bytes()

    def open(self) -> IO[bytes]:
        return self.path.open("rb")

    def preview_url(self) -> str:
        """A signed, expiring URL of this image; "" for anything that is not an image.

        The URL is kept for half its lifetime, so that re-renders keep the same ``src`` and
        the browser does not fetch the image again."""
        store = self._store()
        if store is None or not self.is_image or not self.exists():
            return ""
        now = time.time()
        if self._preview is None or now - self._preview[1] > store.settings.preview_max_age / 2:
            base = str(self._recorded().get("base") or "")
            self._preview = (f"{base}/upload/preview/{store.preview_token(self.id)}", now)
        return self._preview[0]

    # -- keeping it ----------------------------------------------------------------------

    def store(self, path: str | os.PathLike[str]) -> Path:
        """Move the bytes to ``path`` (permanent storage) and forget the temporary upload."""
        store = self._require()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(store.data_path(self.id), target)
        store.remove(self.id)
        return target

    def save_to(self, directory: str | os.PathLike[str], name: str | None = None) -> Path:
        """Move the bytes into ``directory`` as ``name`` (default: a random name with the
        extension of the detected type, never the client's); returns the new path."""
        stem = name if name is not None else self.id.partition(".")[2]
        if name is not None and (Path(name).name != name or name in ("", ".", "..")):
            raise ValueError(f"save_to: {name!r} must be a plain file name")
        filename = stem if name is not None else stem + self.extension
        return self.store(Path(directory) / filename)

    def delete(self) -> None:
        store = self._store()
        if store is not None:
            store.remove(self.id)

    def _require(self) -> UploadStore:
        store = self._store()
        if store is None or self.error is not None:
            raise FileNotFoundError(f"upload {self.id or self.name_hint!r} is not available")
        if not self.exists():
            raise FileNotFoundError(f"upload {self.name!r} has expired or was already stored")
        return store

    # -- value semantics -----------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UploadedFile):
            return NotImplemented
        return (self.id, self.error) == (other.id, other.error)

    def __hash__(self) -> int:
        return hash((self.id, self.error))

    def __repr__(self) -> str:
        if self.error is not None:
            return f"UploadedFile(error={self.error!r}, name={self.name_hint!r})"
        return f"UploadedFile({self.id!r})"
