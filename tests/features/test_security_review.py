"""Fixes from a security review: uploads, lp-navigate, page channels (docs/topics/security.md)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from livepy import LivePy, UploadedFile, UploadSettings
from livepy.channels.page import MAX_PAGE_REFUSALS
from livepy.exceptions import ConfigurationError
from livepy.features.uploads.store import UploadStore, UploadTicket
from livepy.protocol import constants as c
from livepy.protocol.frames import (
    ChannelEvent,
    Navigate,
    Page,
    Subscribe,
    decode_server_frame,
    encode,
)
from livepy.session import LiveSession
from tests.conftest import page_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100

# -- lp-navigate: a redirect to javascript: must not reach location.assign() ----------------


def _redirecting_app() -> Starlette:
    def to(location: str) -> Any:
        return lambda request: Response(status_code=302, headers={"location": location})

    return Starlette(
        routes=[
            Route("/js", to("javascript:alert(document.cookie)")),
            Route("/data", to("data:text/html,<script>alert(1)</script>")),
            Route("/hidden", to("\x01 java\tscript:alert(1)")),
        ]
    )


async def _navigate(live: LivePy, url: str) -> Any:
    session = LiveSession(live)
    session.scope = {
        "type": "websocket",
        "app": _redirecting_app(),
        "scheme": "ws",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
    }
    (frame,) = await session.receive(encode(Navigate(1, url, None)))
    await session.close()
    return decode_server_frame(frame)


@pytest.mark.parametrize("path", ["/js", "/data", "/hidden"])
async def test_navigate_never_hands_a_script_url_to_the_browser(path: str) -> None:
    # The runtime assigns a full-load URL to location; a javascript: one would run in the
    # page. The browser loads the path itself instead, where the redirect is inert.
    page = await _navigate(LivePy(templates=[], secret_key="k"), path)
    assert isinstance(page, Page)
    assert (page.status, page.url, page.html) == (0, path, None)


# -- uploads: the temporary directory ------------------------------------------------------


def test_a_configured_world_writable_upload_directory_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by every user"):
        UploadStore("k", UploadSettings(directory=shared))


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory away needs root")
def test_an_upload_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o700)
    os.chown(planted, 65534, 65534)
    with pytest.raises(ConfigurationError, match="belongs to another user"):
        UploadStore("k", UploadSettings(directory=planted))


def test_the_default_upload_directory_is_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made_earlier = tmp_path / "livepy-uploads"
    made_earlier.mkdir()
    made_earlier.chmod(0o755)
    store = UploadStore("k")
    assert store.directory == made_earlier.resolve()
    assert made_earlier.stat().st_mode & 0o777 == 0o700


# -- uploads: one URL, one file --------------------------------------------------------------


async def test_an_upload_url_is_refused_once_its_file_is_in_place(tmp_path: Path) -> None:
    # The end of a PUT moves <id>.part to <id>.data, then writes <id>.json: a second PUT of
    # the same URL in between must not overwrite the file.
    live = LivePy(
        templates=[], secret_key="k", uploads=UploadSettings(directory=tmp_path / "uploads")
    )
    store = live.uploads
    ticket = UploadTicket(store.new_id(), "a.png", 4096, "/livepy", "cid", "photo")
    store.data_path(ticket.id).write_bytes(PNG)  # the first PUT, just before its record
    transport = httpx.ASGITransport(app=page_app(live))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        again = await http.put(
            f"/livepy/upload/{store.upload_token(ticket)}",
            content=b"other bytes",
            headers={"X-Livepy": "1"},
        )
    assert again.status_code == 409 and again.json()["code"] == "upload_token_used"
    assert store.data_path(ticket.id).read_bytes() == PNG


# -- page channels: refused subscriptions are bounded ----------------------------------------


async def test_a_page_cannot_make_the_server_check_channels_without_end() -> None:
    live = LivePy(templates=[], secret_key="k")
    asked: list[int] = []

    @live.channel("secret.{n}")
    def never(user: Any, n: int) -> bool:
        asked.append(n)
        return False

    session = LiveSession(live)
    for n in range(MAX_PAGE_REFUSALS + 20):
        (frame,) = await session.receive(encode(Subscribe(f"private-secret.{n}")))
        event = decode_server_frame(frame)
        assert isinstance(event, ChannelEvent) and event.data["code"] == c.ERR_CHANNEL_FORBIDDEN
    await session.close()
    # Every refusal costs a rule call and a cache entry: they stop at the limit.
    assert len(asked) == MAX_PAGE_REFUSALS
    assert "the limit" in event.data["message"]


async def test_an_upload_url_stays_used_after_its_file_was_stored(tmp_path: Path) -> None:
    # Storing the file removes the temporary copy and its record; the URL, still within its
    # minutes, must not put new (never validated) bytes back under the id the field holds.
    live = LivePy(
        templates=[], secret_key="k", uploads=UploadSettings(directory=tmp_path / "uploads")
    )
    store = live.uploads
    ticket = UploadTicket(store.new_id(), "a.png", 4096, "/livepy", "cid", "photo")
    url = f"/livepy/upload/{store.upload_token(ticket)}"
    transport = httpx.ASGITransport(app=page_app(live))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        first = await http.put(url, content=PNG, headers={"X-Livepy": "1"})
        assert first.status_code == 200, first.text
        UploadedFile(ticket.id).store(tmp_path / "kept.png")
        again = await http.put(url, content=b"<script>", headers={"X-Livepy": "1"})
    assert again.status_code == 409 and again.json()["code"] == "upload_token_used"
    assert not UploadedFile(ticket.id).exists()
    # The mark goes with the cleanup, like every temporary file of the store.
    assert store.cleanup(time.time() + store.settings.max_age + 1, force=True) == 1
