"""The upload routes: ``POST {path}/upload`` (ask for upload URLs), ``PUT {path}/upload/{token}``
(send one file) and ``GET {path}/upload/preview/{token}`` (an image preview).

Every refusal is JSON ``{"code": ..., "message": ...}`` with the code also in the
``X-Livepy-Error`` header; the codes are listed in docs/reference/errors.md. A file is
written to ``<id>.part`` while it streams in and becomes ``<id>.data`` only once it is
complete and within its limit, so an aborted or oversized upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import msgpack
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from livepy import registry
from livepy.exceptions import UnknownComponentError
from livepy.features.uploads import UploadStore, upload_fields
from livepy.features.uploads.rules import human_size
from livepy.features.uploads.sniff import IMAGE_TYPES, SNIFF_BYTES, sniff
from livepy.features.uploads.store import TokenError, UploadTicket, safe_name
from livepy.protocol.errors import ProtocolError

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["upload_routes"]

logger = logging.getLogger("livepy.uploads")

# The request asking for upload URLs is small: a snapshot, a field name and file names.
MAX_START_BODY = 256 * 1024
MAX_TOKEN_CHARS = 1024
_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return JSONResponse(
            {"code": self.code, "message": self.message},
            status_code=self.status,
            headers={"X-Livepy-Error": self.code, "Cache-Control": "no-store"},
        )


def upload_routes(live: LivePy) -> list[Route]:
    return [
        Route(live.path + "/upload", partial(start_endpoint, live), methods=["POST"]),
        Route(
            live.path + "/upload/preview/{token}",
            partial(preview_endpoint, live),
            methods=["GET"],
        ),
        Route(live.path + "/upload/{token}", partial(put_endpoint, live), methods=["PUT", "POST"]),
    ]


def _check_browser(live: LivePy, request: Request) -> None:
    """The CSRF and Origin checks of the HTTP fallback (docs/topics/security.md)."""
    # Imported here: livepy.transport imports the session, which imports the app's features.
    from livepy.transport.origin import browser_refusal

    refusal = browser_refusal(request.headers, live.allowed_origins)
    if refusal is not None:
        raise Refused(403, *refusal)


def _check_room(store: UploadStore, incoming: int) -> None:
    """Refuse an upload the directory has no room for (``UploadSettings.max_total_bytes``).

    Uploads arriving at the same time each see the others' bytes only as far as they got, so
    the directory may exceed the limit by at most the uploads in flight."""
    limit = store.settings.max_total_bytes
    if limit is None:
        return
    stored = store.stored_bytes()
    if stored + incoming > limit:
        raise Refused(
            507,
            "upload_storage_full",
            f"the upload storage is full ({human_size(stored)} of {human_size(limit)}, "
            "UploadSettings.max_total_bytes); try again later",
        )


def _base(live: LivePy, request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") + live.path


# -- POST {path}/upload ----------------------------------------------------------------


async def start_endpoint(live: LivePy, request: Request) -> Response:
    try:
        return await _start(live, request)
    except Refused as refused:
        logger.info("refused upload start: %s %s", refused.code, refused.message)
        return refused.response()


async def _start(live: LivePy, request: Request) -> Response:
    """Body: msgpack ``[snapshot, field, [[name, size], ...]]``; answer: the upload URLs."""
    _check_browser(live, request)
    store: UploadStore = live.uploads
    settings = store.settings
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_START_BODY:
            raise Refused(413, "upload_request_too_large", "the upload request is too large")
    try:
        snapshot_wire, field_name, files = msgpack.unpackb(bytes(body), raw=False)
        declared = [(str(name), int(size)) for name, size, *_ in files]
    except Exception:  # msgpack and the unpacking raise many unrelated types for garbage
        raise Refused(
            400, "bad_upload_request", "the body must be msgpack [snapshot, field, [[name, size]]]"
        ) from None
    try:
        snapshot = live.snapshots.verify(snapshot_wire)
        cls = registry.resolve(snapshot.name)
    except ProtocolError as exc:
        raise Refused(403, exc.code, exc.message) from None
    except UnknownComponentError as exc:
        raise Refused(403, "unknown_component", str(exc)) from None
    field = upload_fields(cls).get(str(field_name))
    if field is None:
        raise Refused(
            400, "upload_not_a_file_field", f"{cls.name}.{field_name} is not an UploadedFile field"
        )
    count_limit = settings.max_files if field.multiple else 1
    if field.max_files is not None:
        count_limit = min(count_limit, field.max_files)
    if not declared:
        raise Refused(400, "bad_upload_request", "the upload request names no file")
    if len(declared) > count_limit:
        raise Refused(
            400,
            "upload_too_many",
            f"{len(declared)} files for {field_name}; at most {count_limit} are accepted",
        )
    max_bytes = min(settings.max_bytes, field.max_bytes or settings.max_bytes)
    for name, size in declared:
        if size > max_bytes:
            raise Refused(
                413,
                "upload_too_large",
                f"{safe_name(name)} is {human_size(size)}; the limit is {human_size(max_bytes)}",
            )
    store.cleanup()
    _check_room(store, sum(size for _name, size in declared))
    base = _base(live, request)
    uploads = []
    for name, _size in declared:
        ticket = UploadTicket(
            store.new_id(), safe_name(name), max_bytes, base, snapshot.cid, field.name
        )
        token = store.upload_token(ticket)
        uploads.append({"url": f"{base}/upload/{token}"})
    return JSONResponse(
        {"uploads": uploads, "max_bytes": max_bytes}, headers={"Cache-Control": "no-store"}
    )


# -- PUT {path}/upload/{token} -----------------------------------------------------------


@contextlib.contextmanager
def _slot(store: UploadStore, ip: str) -> Iterator[None]:
    """Count one upload in flight for ``ip``; refuse beyond ``max_concurrent``."""
    if store.in_flight.get(ip, 0) >= store.settings.max_concurrent:
        raise Refused(
            429,
            "upload_busy",
            f"{store.settings.max_concurrent} uploads are already in flight from this client",
        )
    store.in_flight[ip] = store.in_flight.get(ip, 0) + 1
    try:
        yield
    finally:
        left = store.in_flight[ip] - 1
        if left:
            store.in_flight[ip] = left
        else:
            del store.in_flight[ip]


async def put_endpoint(live: LivePy, request: Request) -> Response:
    try:
        return await _put(live, request)
    except Refused as refused:
        logger.info("refused upload: %s %s", refused.code, refused.message)
        return refused.response()


def _read_token(store: UploadStore, token: str) -> UploadTicket:
    if len(token) > MAX_TOKEN_CHARS or _TOKEN.fullmatch(token) is None:
        raise Refused(400, "upload_token_invalid", "the upload URL is malformed")
    try:
        return store.read_upload_token(token)
    except TokenError as exc:
        code = "upload_token_expired" if exc.expired else "upload_token_invalid"
        raise Refused(403, code, str(exc)) from None


async def _put(live: LivePy, request: Request) -> Response:
    _check_browser(live, request)
    store: UploadStore = live.uploads
    ticket = _read_token(store, request.path_params["token"])
    upload_id, max_bytes = ticket.id, ticket.max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise Refused(413, "upload_too_large", f"the file exceeds {human_size(max_bytes)}")
    _check_room(store, int(declared) if declared.isdigit() else max_bytes)
    ip = request.client.host if request.client is not None else "?"
    with _slot(store, ip):
        part = store.part_path(upload_id)
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise Refused(409, "upload_token_used", "this upload URL was used already") from None
        # The data file appears before the .part goes away, so a second PUT racing the end of
        # the first sees it even while the record is still being written.
        if any(
            path.exists()
            for path in (
                store.used_path(upload_id),
                store.data_path(upload_id),
                store.meta_path(upload_id),
            )
        ):
            os.close(fd)
            part.unlink()
            raise Refused(409, "upload_token_used", "this upload URL was used already")
        size, head = 0, b""
        complete = False
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > max_bytes:
                        raise Refused(
                            413, "upload_too_large", f"the file exceeds {human_size(max_bytes)}"
                        )
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    out.write(chunk)
            complete = True
        except ClientDisconnect:
            raise Refused(400, "upload_aborted", "the upload stopped before the end") from None
        finally:
            if not complete:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
    meta: dict[str, Any] = {
        "name": ticket.name,
        "size": size,
        "type": sniff(head),
        "base": ticket.base,
        "owner": [ticket.cid, ticket.field],
        "created": time.time(),
    }
    store.used_path(upload_id).touch()  # before the .part goes: a second PUT sees one of them
    os.replace(part, store.data_path(upload_id))
    store.write_meta(upload_id, meta)
    store.cleanup()
    return JSONResponse(
        {"id": upload_id, "name": ticket.name, "size": size, "type": meta["type"]},
        headers={"Cache-Control": "no-store"},
    )


# -- GET {path}/upload/preview/{token} ---------------------------------------------------


async def preview_endpoint(live: LivePy, request: Request) -> Response:
    store: UploadStore = live.uploads
    try:
        token = request.path_params["token"]
        if len(token) > MAX_TOKEN_CHARS or _TOKEN.fullmatch(token) is None:
            raise Refused(400, "upload_token_invalid", "the preview URL is malformed")
        try:
            upload_id = store.read_preview_token(token)
        except TokenError as exc:
            code = "upload_token_expired" if exc.expired else "upload_token_invalid"
            raise Refused(403, code, str(exc)) from None
        meta = store.meta(upload_id)
        path = store.data_path(upload_id)
        if meta is None or not path.exists():
            raise Refused(404, "upload_not_found", "the upload is gone (stored or expired)")
        if meta.get("type") not in IMAGE_TYPES:
            raise Refused(415, "upload_not_previewable", "only images have previews")
    except Refused as refused:
        return refused.response()
    return FileResponse(
        path,
        media_type=str(meta["type"]),
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Cache-Control": f"private, max-age={store.settings.preview_max_age}",
        },
    )
