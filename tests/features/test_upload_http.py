"""The upload routes over real HTTP: upload URLs, streaming with limits, previews, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import httpx
import msgpack
import pytest

from livepy import Component, LivePy, UploadedFile, UploadSettings
from livepy.features.uploads import FileSize, MaxFiles
from livepy.features.uploads.store import UploadTicket
from livepy.protocol.snapshot import b64decode
from tests.conftest import LiveServer, ServeFactory, page_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"\x00" * 100
HEADERS = {"X-Livepy": "1"}


class HttpUploadForm(Component):
    template_source = "<div>{{ photo.name if photo else '' }}</div>"
    photo: Annotated[UploadedFile | None, FileSize(max=4096)] = None
    files: Annotated[list[UploadedFile], MaxFiles(3)] = []
    title: str = ""


@pytest.fixture
def live(tmp_path: Path) -> LivePy:
    settings = UploadSettings(directory=tmp_path / "uploads", max_bytes=8192, max_concurrent=2)
    return LivePy(templates=[], secret_key="k", uploads=settings)


async def start(live: LivePy, serve: ServeFactory) -> tuple[LiveServer, list[Any]]:
    server = await serve(page_app(live, "http_upload_form"))
    async with httpx.AsyncClient() as http:
        page = await http.get(server.url + "/")
    attribute = page.text.split('lp-snapshot="', 1)[1].split('"', 1)[0]
    return server, msgpack.unpackb(b64decode(attribute), raw=False)


async def ask(
    server: LiveServer, snapshot: Any, field: str, files: list[list[Any]], **headers: str
) -> httpx.Response:
    body = msgpack.packb([snapshot, field, files], use_bin_type=True)
    async with httpx.AsyncClient() as http:
        return await http.post(
            server.url + "/livepy/upload", content=body, headers={**HEADERS, **headers}
        )


async def test_upload_then_preview(live: LivePy, serve: ServeFactory) -> None:
    server, snapshot = await start(live, serve)
    answer = await ask(server, snapshot, "photo", [["me.png", len(PNG)]])
    assert answer.status_code == 200, answer.text
    (upload,) = answer.json()["uploads"]
    async with httpx.AsyncClient() as http:
        sent = await http.put(server.url + upload["url"], content=PNG, headers=HEADERS)
        assert sent.status_code == 200, sent.text
        body = sent.json()
        assert (body["name"], body["size"], body["type"]) == ("me.png", len(PNG), "image/png")
        photo = UploadedFile(body["id"])
        assert photo.read() == PNG
        preview = await http.get(server.url + photo.preview_url())
        assert preview.status_code == 200 and preview.content == PNG
        assert preview.headers["content-type"] == "image/png"
        assert preview.headers["x-content-type-options"] == "nosniff"
        # An upload URL is good for one file only.
        again = await http.put(server.url + upload["url"], content=PNG, headers=HEADERS)
        assert again.status_code == 409 and again.json()["code"] == "upload_token_used"


async def test_a_pdf_has_no_preview(live: LivePy, serve: ServeFactory) -> None:
    server, _ = await start(live, serve)
    pdf = UploadedFile(live.uploads.add("doc.pdf", PDF))
    assert pdf.preview_url() == ""
    token = live.uploads.preview_token(pdf.id)
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.url}/livepy/upload/preview/{token}")
    assert response.status_code == 415 and response.json()["code"] == "upload_not_previewable"


async def test_bad_tokens_are_refused(live: LivePy, serve: ServeFactory) -> None:
    server, _snapshot = await start(live, serve)
    other = LivePy(templates=[], secret_key="another", uploads=live.uploads.settings)
    ticket = UploadTicket(live.uploads.new_id(), "x.png", 10**9, "/livepy", "cid", "photo")
    forged = other.uploads.upload_token(ticket)
    async with httpx.AsyncClient() as http:
        malformed = await http.put(server.url + "/livepy/upload/%3Cnot%20a%20token%3E",
                                   content=PNG, headers=HEADERS)  # fmt: skip
        assert malformed.status_code == 400
        assert malformed.json()["code"] == "upload_token_invalid"
        refused = await http.put(f"{server.url}/livepy/upload/{forged}", content=PNG,
                                 headers=HEADERS)  # fmt: skip
        assert refused.status_code == 403 and refused.json()["code"] == "upload_token_invalid"
        assert refused.headers["x-livepy-error"] == "upload_token_invalid"
        preview = await http.get(f"{server.url}/livepy/upload/preview/{forged}")
        assert preview.status_code == 403
        no_header = await http.put(f"{server.url}/livepy/upload/{forged}", content=PNG)
        assert no_header.status_code == 403 and no_header.json()["code"] == "header_missing"


async def test_start_refusals(live: LivePy, serve: ServeFactory) -> None:
    server, snapshot = await start(live, serve)
    big = await ask(server, snapshot, "photo", [["big.png", 5000]])
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large"
    assert "4 KB" in big.json()["message"]
    many = await ask(server, snapshot, "files", [["a", 1]] * 4)
    assert many.status_code == 400 and many.json()["code"] == "upload_too_many"
    single = await ask(server, snapshot, "photo", [["a", 1], ["b", 1]])
    assert single.json()["code"] == "upload_too_many"
    not_file = await ask(server, snapshot, "title", [["a", 1]])
    assert not_file.status_code == 400 and not_file.json()["code"] == "upload_not_a_file_field"
    tampered = [*snapshot[:4], b"\x00" * 8]
    forged = await ask(server, tampered, "photo", [["a.png", 10]])
    assert forged.status_code == 403 and forged.json()["code"] == "snapshot_invalid"
    async with httpx.AsyncClient() as http:
        garbage = await http.post(server.url + "/livepy/upload", content=b"\xc1", headers=HEADERS)
    assert garbage.status_code == 400 and garbage.json()["code"] == "bad_upload_request"
    cross = await ask(server, snapshot, "photo", [["a.png", 10]], origin="https://evil.example")
    assert cross.status_code == 403 and cross.json()["code"] == "origin_refused"


async def test_a_body_larger_than_declared_is_cut_off_at_the_limit(
    live: LivePy, serve: ServeFactory
) -> None:
    server, snapshot = await start(live, serve)
    answer = await ask(server, snapshot, "photo", [["small.png", 10]])
    url = answer.json()["uploads"][0]["url"]

    async def chunks() -> Any:
        for _ in range(10):
            yield b"\x00" * 1000  # 10 000 bytes, sent without a Content-Length

    async with httpx.AsyncClient() as http:
        response = await http.put(server.url + url, content=chunks(), headers=HEADERS)
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"
    assert list(live.uploads.directory.iterdir()) == []


async def test_a_declared_oversized_body_is_refused_before_reading(
    live: LivePy, serve: ServeFactory
) -> None:
    server, snapshot = await start(live, serve)
    url = (await ask(server, snapshot, "photo", [["a.png", 10]])).json()["uploads"][0]["url"]
    async with httpx.AsyncClient() as http:
        response = await http.put(server.url + url, content=b"\x00" * 5000, headers=HEADERS)
    assert response.status_code == 413
    assert response.json()["message"] == "the file exceeds 4 KB"


async def test_an_aborted_upload_leaves_no_temporary_file(
    live: LivePy, serve: ServeFactory
) -> None:
    server, snapshot = await start(live, serve)
    url = (await ask(server, snapshot, "photo", [["a.png", 4000]])).json()["uploads"][0]["url"]
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"PUT {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Livepy: 1\r\n"
        "Content-Length: 4000\r\n\r\n".encode()
        + PNG
    )
    await writer.drain()
    # The partial file exists while the body streams in...
    for _ in range(500):
        if any(p.suffix == ".part" for p in live.uploads.directory.iterdir()):
            break
        await asyncio.sleep(0.01)  # polling the directory for the server's first write
    else:
        pytest.fail("the upload never started writing")
    writer.close()  # ...and the client goes away halfway
    await writer.wait_closed()
    for _ in range(500):
        if not list(live.uploads.directory.iterdir()):
            break
        await asyncio.sleep(0.01)  # polling until the server noticed the disconnect
    assert list(live.uploads.directory.iterdir()) == []
    assert live.uploads.in_flight == {}


async def test_concurrent_uploads_per_client_are_bounded(live: LivePy, serve: ServeFactory) -> None:
    server, snapshot = await start(live, serve)
    answer = await ask(server, snapshot, "files", [["a", 100], ["b", 100], ["c", 100]])
    urls = [u["url"] for u in answer.json()["uploads"]]
    writers = []
    for url in urls[:2]:  # two uploads that never finish their body hold both slots
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"PUT {url} HTTP/1.1\r\nHost: x\r\nX-Livepy: 1\r\nContent-Length: 100\r\n\r\n"
            "abc".encode()
        )
        await writer.drain()
        writers.append(writer)
    for _ in range(500):
        if sum(live.uploads.in_flight.values()) == 2:
            break
        await asyncio.sleep(0.01)  # polling until the server counts both in flight
    async with httpx.AsyncClient() as http:
        third = await http.put(server.url + urls[2], content=b"x" * 100, headers=HEADERS)
    assert third.status_code == 429 and third.json()["code"] == "upload_busy"
    for writer in writers:
        writer.close()
