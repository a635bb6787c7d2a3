"""The upload directory's total size (``max_total_bytes``) and the settings that keep a used
upload URL used for as long as it is valid."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from livepy import LivePy, UploadSettings
from tests.conftest import ServeFactory
from tests.features.test_upload_http import HEADERS, PNG, ask, start

FILE = PNG + b"\x00" * (5000 - len(PNG))


@pytest.fixture
def live(tmp_path: Path) -> LivePy:
    settings = UploadSettings(directory=tmp_path / "uploads", max_bytes=8192, max_total_bytes=8192)
    return LivePy(templates=[], secret_key="k", uploads=settings)


async def test_uploads_beyond_the_storage_quota_are_refused(
    live: LivePy, serve: ServeFactory
) -> None:
    server, snapshot = await start(live, serve)
    # Two URLs while the directory is empty: each 5000-byte file fits alone, not both.
    answer = await ask(server, snapshot, "files", [["a.png", len(FILE)], ["b.png", len(FILE)]])
    assert answer.status_code == 507 and answer.json()["code"] == "upload_storage_full"
    first = (await ask(server, snapshot, "files", [["a.png", len(FILE)]])).json()["uploads"][0]
    second = (await ask(server, snapshot, "files", [["b.png", len(FILE)]])).json()["uploads"][0]
    async with httpx.AsyncClient() as http:
        sent = await http.put(server.url + first["url"], content=FILE, headers=HEADERS)
        assert sent.status_code == 200, sent.text
        full = await http.put(server.url + second["url"], content=FILE, headers=HEADERS)
        assert full.status_code == 507, full.text
        assert full.headers["x-livepy-error"] == "upload_storage_full"
        assert "max_total_bytes" in full.json()["message"]
        asked = await ask(server, snapshot, "files", [["c.png", len(FILE)]])
        assert asked.status_code == 507
        live.uploads.remove(sent.json()["id"])  # stored elsewhere: room again
        again = await http.put(server.url + second["url"], content=FILE, headers=HEADERS)
        assert again.status_code == 200, again.text


def test_the_storage_quota_is_checked() -> None:
    assert UploadSettings().max_total_bytes == 1024**3
    assert UploadSettings(max_total_bytes=None).max_total_bytes is None
    with pytest.raises(ValueError, match="max_total_bytes"):
        UploadSettings(max_bytes=8192, max_total_bytes=4096)


def test_files_must_outlive_their_upload_urls() -> None:
    with pytest.raises(ValueError, match=r"max_age .* token_max_age"):
        UploadSettings(max_age=60, token_max_age=300)
    assert UploadSettings(max_age=300, token_max_age=300).max_age == 300
