"""Temporary upload storage: where uploaded bytes wait until a component stores them.

Each upload is two files in the store's directory, named by its id: ``<id>.data`` (the
bytes) and ``<id>.json`` (what the server learned: the client's file name, the size, the
type sniffed from the content, the URL base for previews). The id is
``<store key>.<128 random bits>``: the key finds the store (so any process of the app,
sharing the directory and the secret, can resolve an id), the random part makes an id
impossible to guess, so holding one is the proof of having uploaded it.

Signed tokens (itsdangerous) authorize one upload (``upload_token``: single use, minutes)
and one preview (``preview_token``). Files older than ``UploadSettings.max_age`` are
removed, at most once per ``cleanup_interval``, whenever an upload starts or arrives.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import time
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from livepy.exceptions import ConfigurationError
from livepy.features.uploads.sniff import SNIFF_BYTES, sniff

__all__ = [
    "ID_PATTERN",
    "TokenError",
    "UploadSettings",
    "UploadStore",
    "UploadTicket",
    "find_store",
    "safe_name",
]

ID_PATTERN = re.compile(r"[0-9a-f]{8}\.[0-9a-f]{32}")
MAX_NAME_CHARS = 200

# store key -> store; weak, so that an app (and its store) can go away (tests make many).
_STORES: weakref.WeakValueDictionary[str, UploadStore] = weakref.WeakValueDictionary()


@dataclass(frozen=True, slots=True)
class UploadSettings:
    """Upload limits and storage: ``LivePy(uploads=UploadSettings(max_bytes=5_000_000))``.

    ``directory``: temporary storage (default: ``<tempdir>/livepy-uploads``); every process
    of an app must see the same one. ``max_bytes``: the largest file accepted, checked
    while it streams in. ``max_files``: files per upload (one ``lp-model`` change).
    ``max_concurrent``: uploads in flight per client address. ``max_age``: seconds a
    temporary file is kept. ``token_max_age``: seconds an upload URL stays valid.
    ``preview_max_age``: seconds a preview URL stays valid. ``max_total_bytes``: the bytes
    the upload directory may hold in all (None: no limit); beyond it uploads are refused
    with 507 ``upload_storage_full`` until the cleanup or ``save_to`` frees room.
    ``max_age`` must be at least ``token_max_age``: the cleanup removes the single-use mark
    of an upload URL after ``max_age``, which must not happen while the URL is still valid.
    """

    directory: str | os.PathLike[str] | None = None
    max_bytes: int = 12 * 1024 * 1024
    max_files: int = 10
    max_concurrent: int = 4
    max_age: float = 24 * 3600
    cleanup_interval: float = 60.0
    token_max_age: int = 300
    preview_max_age: int = 1800
    max_total_bytes: int | None = 1024 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_files", "max_concurrent", "token_max_age"):
            if getattr(self, name) < 1:
                raise ValueError(f"UploadSettings.{name} must be at least 1")
        if self.max_age <= 0 or self.preview_max_age <= 0 or self.cleanup_interval < 0:
            raise ValueError("UploadSettings ages and intervals must be positive")
        if self.max_age < self.token_max_age:
            raise ValueError(
                f"UploadSettings.max_age ({self.max_age:g} s) must be at least token_max_age "
                f"({self.token_max_age} s): the cleanup would forget that an upload URL was "
                "used while the URL is still valid, so it could deliver a second file"
            )
        if self.max_total_bytes is not None and self.max_total_bytes < self.max_bytes:
            raise ValueError(
                f"UploadSettings.max_total_bytes ({self.max_total_bytes}) must be at least "
                f"max_bytes ({self.max_bytes}), or None for no limit"
            )


@dataclass(frozen=True, slots=True)
class UploadTicket:
    """What one upload URL allows: one file, into one field of one component."""

    id: str
    name: str  # the client's file name, made safe
    max_bytes: int
    base: str  # root path + livepy path, for preview URLs
    cid: str  # the component (and field) the file is for: no other field may claim it
    field: str


class TokenError(Exception):
    """A token that is not one of ours (``expired`` tells an old genuine one apart)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def safe_name(name: str) -> str:
    """The client's file name, for display only: no path, no control characters, bounded."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:MAX_NAME_CHARS] or "file"


def _check_private(directory: Path, *, default: bool) -> None:
    """Refuse a directory other users could read or plant files in.

    The default lives in the shared temp directory, where another local user may have made
    ``livepy-uploads`` first: it must be ours, and is narrowed to 0o700. A configured
    directory must be ours and not writable by others."""
    if os.name != "posix":
        return
    info = directory.stat()
    if info.st_uid != os.getuid():
        raise ConfigurationError(
            f"the upload directory {str(directory)!r} belongs to another user (uid "
            f"{info.st_uid}): choose one of this process's own (UploadSettings(directory=...))"
        )
    if default and info.st_mode & 0o077:
        directory.chmod(0o700)
    elif info.st_mode & 0o002:
        raise ConfigurationError(
            f"the upload directory {str(directory)!r} is writable by every user: "
            "make it private (chmod 700)"
        )


def find_store(upload_id: str) -> UploadStore | None:
    """The store an id belongs to, in this process, or None."""
    return _STORES.get(upload_id.partition(".")[0])


class UploadStore:
    """One app's temporary uploads: the directory, the signed tokens and the cleanup."""

    def __init__(self, secret_key: str | bytes, settings: UploadSettings | None = None) -> None:
        self.settings = settings or UploadSettings()
        directory = self.settings.directory
        if directory is None:
            directory = Path(tempfile.gettempdir()) / "livepy-uploads"
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _check_private(self.directory, default=self.settings.directory is None)
        secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
        digest = hmac.new(secret, b"livepy-upload-store:" + bytes(self.directory), hashlib.sha256)
        self.key = digest.hexdigest()[:8]
        self._tokens = URLSafeTimedSerializer(secret, salt="livepy-upload")
        self._previews = URLSafeTimedSerializer(secret, salt="livepy-upload-preview")
        self._last_cleanup = 0.0
        # client address -> uploads in flight from it
        self.in_flight: dict[str, int] = {}
        _STORES[self.key] = self

    # -- ids and files -----------------------------------------------------------------

    def new_id(self) -> str:
        return f"{self.key}.{secrets.token_hex(16)}"

    def owns(self, upload_id: str) -> bool:
        return ID_PATTERN.fullmatch(upload_id) is not None and upload_id.startswith(self.key)

    def data_path(self, upload_id: str) -> Path:
        if not self.owns(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id of this store")
        return self.directory / f"{upload_id}.data"

    def meta_path(self, upload_id: str) -> Path:
        return self.data_path(upload_id).with_suffix(".json")

    def part_path(self, upload_id: str) -> Path:
        return self.data_path(upload_id).with_suffix(".part")

    def used_path(self, upload_id: str) -> Path:
        """The mark of an upload URL that delivered its file. It outlives ``remove()`` (until
        the cleanup, long after the URL expired), so a stored file's URL stays used."""
        self.data_path(upload_id)  # checks the id
        key, _, random_part = upload_id.partition(".")
        return self.directory / f"{key}.used.{random_part}"

    def meta(self, upload_id: str) -> dict[str, Any] | None:
        """What the server recorded about an upload, or None when it is gone."""
        try:
            meta: dict[str, Any] = json.loads(self.meta_path(upload_id).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return meta

    def write_meta(self, upload_id: str, meta: dict[str, Any]) -> None:
        target = self.meta_path(upload_id)
        temporary = target.with_suffix(".json-new")
        temporary.write_text(json.dumps(meta), "utf-8")
        os.replace(temporary, target)  # readers never see half a file

    def add(
        self, name: str, data: bytes, base: str = "/livepy", owner: tuple[str, str] | None = None
    ) -> str:
        """Store ``data`` as a finished upload (tests, server-made files); returns its id.

        ``owner`` (component id, field) reserves it for that field, as an upload URL does."""
        upload_id = self.new_id()
        self.data_path(upload_id).write_bytes(data)
        meta = {"name": safe_name(name), "size": len(data), "type": sniff(data[:SNIFF_BYTES])}
        if owner is not None:
            meta["owner"] = list(owner)
        self.write_meta(upload_id, {**meta, "base": base, "created": time.time()})
        return upload_id

    def remove(self, upload_id: str) -> None:
        for path in (self.data_path(upload_id), self.meta_path(upload_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def cleanup(self, now: float | None = None, *, force: bool = False) -> int:
        """Remove temporary files older than ``max_age``; returns how many were removed."""
        now = time.time() if now is None else now
        if not force and now - self._last_cleanup < self.settings.cleanup_interval:
            return 0
        self._last_cleanup = now
        removed = 0
        oldest = now - self.settings.max_age
        for path in self.directory.glob(f"{self.key}.*"):
            try:
                if path.stat().st_mtime < oldest:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another process cleaned it up first
        return removed

    def stored_bytes(self) -> int:
        """The bytes the upload directory holds now (every file in it, finished or arriving)."""
        total = 0
        with os.scandir(self.directory) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    continue  # removed while we looked
        return total

    # -- tokens ------------------------------------------------------------------------

    def upload_token(self, ticket: UploadTicket) -> str:
        return self._tokens.dumps(
            [ticket.id, ticket.name, ticket.max_bytes, ticket.base, ticket.cid, ticket.field]
        )

    def read_upload_token(self, token: str) -> UploadTicket:
        """What a genuine, unexpired upload token allows."""
        data = self._load(self._tokens, token, self.settings.token_max_age)
        if not (
            isinstance(data, list)
            and len(data) == 6
            and isinstance(data[0], str)
            and self.owns(data[0])
        ):
            raise TokenError("the upload token does not name an upload")
        return UploadTicket(data[0], str(data[1]), int(data[2]), str(data[3]), *map(str, data[4:]))

    def preview_token(self, upload_id: str) -> str:
        return self._previews.dumps(upload_id)

    def read_preview_token(self, token: str) -> str:
        upload_id = self._load(self._previews, token, self.settings.preview_max_age)
        if not isinstance(upload_id, str) or not self.owns(upload_id):
            raise TokenError("the preview token does not name an upload")
        return upload_id

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> Any:
        try:
            return serializer.loads(token, max_age=max_age)
        except SignatureExpired:
            raise TokenError("the token has expired", expired=True) from None
        except BadSignature:
            raise TokenError("the token is not valid") from None
