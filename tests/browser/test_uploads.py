"""The uploads example in real Chromium: progress to 100%, previews, errors, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser

# A real 1x1 PNG, so that the preview must decode as an image in the browser.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a0e3a8a90000000049454e44ae426082"
)
FILE_INPUT = "input[type=file][lp-model=photos]"


@pytest.fixture
def saved_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from livepy.demo import load_example

    target = tmp_path / "saved"
    monkeypatch.setattr(load_example("uploads"), "SAVED_DIR", target)
    return target


def stored_files(directory: Path) -> list[tuple[str, bytes]]:
    return sorted((path.suffix, path.read_bytes()) for path in directory.iterdir())


async def record_progress(page: Any) -> None:
    await page.evaluate(
        """() => {
          window.__progress = [];
          window.__events = [];
          for (const name of ["lp:upload-start", "lp:upload-finish", "lp:upload-error"]) {
            document.addEventListener(name, (e) => window.__events.push([name, e.detail]));
          }
          document.addEventListener("lp:upload-progress",
            (e) => window.__progress.push(e.detail.percent));
        }"""
    )


async def test_upload_with_progress_preview_and_save(
    open_example: OpenExample, saved_dir: Path
) -> None:
    page = await open_example("uploads")
    await record_progress(page)
    big = PNG_1X1 + b"\x00" * 600_000  # still a PNG by its first bytes; big enough to progress
    await page.set_input_files(
        FILE_INPUT,
        files=[
            {"name": "dot.png", "mimeType": "image/png", "buffer": PNG_1X1},
            {"name": "big.png", "mimeType": "image/png", "buffer": big},
        ],
    )
    await page.wait_for_function("document.querySelectorAll('.previews li').length === 2")
    assert await page.evaluate("window.__progress[window.__progress.length - 1]") == 100
    names = await page.evaluate("window.__events.map((e) => e[0])")
    assert names == ["lp:upload-start", "lp:upload-finish"]
    # The preview of the real PNG loads and decodes as an image.
    await page.wait_for_function(
        "(() => { const img = document.querySelector('.previews img[alt=\"dot.png\"]');"
        " return img && img.complete && img.naturalWidth === 1; })()"
    )
    # The progress bar is hidden again once the upload is done.
    assert await page.locator("progress").get_attribute("data-uploading") is None
    await page.click("button[type=submit]")
    await page.wait_for_function("document.querySelectorAll('.saved li').length === 2")
    stored = stored_files(saved_dir)
    assert [suffix for suffix, _ in stored] == [".png", ".png"]
    assert {data for _, data in stored} == {PNG_1X1, big}
    assert await page.locator(".previews li").count() == 0
    assert await page.evaluate("window.__no_reload") is True


async def test_a_wrong_type_shows_an_error_and_the_page_keeps_working(
    open_example: OpenExample, saved_dir: Path
) -> None:
    page = await open_example("uploads")
    await page.set_input_files(
        FILE_INPUT,
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": b"%PDF-1.7 not a png"}],
    )
    await page.wait_for_function(
        "document.querySelector('.photos-error')?.textContent.includes('must be an image')"
    )
    # The rest of the component still answers.
    await page.fill("input[name=caption]", "still alive")
    await page.wait_for_function(
        "document.querySelector('.caption-echo').textContent === 'still alive'"
    )
    # A good file afterwards replaces the error with a preview.
    await page.set_input_files(
        FILE_INPUT, files=[{"name": "ok.png", "mimeType": "image/png", "buffer": PNG_1X1}]
    )
    await page.wait_for_function("document.querySelectorAll('.previews img').length === 1")
    assert await page.locator(".photos-error").count() == 0


async def test_an_oversized_file_is_refused_with_an_error_event(
    open_example: OpenExample, saved_dir: Path
) -> None:
    page = await open_example("uploads")
    await record_progress(page)
    huge = PNG_1X1 + b"\x00" * (2 * 1024 * 1024 + 1)
    await page.set_input_files(
        FILE_INPUT, files=[{"name": "huge.png", "mimeType": "image/png", "buffer": huge}]
    )
    await page.wait_for_function(
        "document.querySelector('.photos-error')?.textContent.includes('larger than 2 MB')"
    )
    errors = await page.evaluate(
        "window.__events.filter((e) => e[0] === 'lp:upload-error').map((e) => e[1].code)"
    )
    assert errors == ["upload_too_large"]
    assert await page.locator(".previews li").count() == 0
