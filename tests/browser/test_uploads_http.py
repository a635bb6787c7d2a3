"""Uploads and streams over the HTTP fallback (no WebSocket), and a stream's limit in the DOM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from livepy import Component, LivePy, UploadedFile, UploadSettings, action
from tests.browser.test_uploads import PNG_1X1
from tests.conftest import ServeFactory, page_app

pytestmark = pytest.mark.browser


class HttpAvatar(Component):
    template_source = """{% macro row(n) %}<li>{{ n.id }}</li>{% endmacro %}
<div>
  <input type="file" lp-model="photo">
  {% if photo %}<img src="{{ photo.preview_url() }}" alt="{{ photo.name }}">{% endif %}
  <button lp-click="more">more</button>
  <ol id="numbers" lp-stream="numbers">{{ stream("numbers", row) }}</ol>
</div>"""
    photo: UploadedFile | None = None
    next_id: int = 1

    @action
    def more(self) -> None:
        self.stream("numbers", [{"id": self.next_id}], limit=2)
        self.next_id += 1


async def test_upload_preview_and_stream_limit_over_http(
    serve: ServeFactory, page: Any, tmp_path: Path
) -> None:
    live = LivePy(
        templates=[],
        secret_key="k",
        websocket=False,
        uploads=UploadSettings(directory=tmp_path),
    )
    server = await serve(page_app(live, "http_avatar", scripts=True))
    await page.goto(server.url + "/")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    assert await page.evaluate("window.livepy.transport") == "http"
    await page.set_input_files(
        "input[type=file]", files=[{"name": "a.png", "mimeType": "image/png", "buffer": PNG_1X1}]
    )
    await page.wait_for_function(
        "(() => { const img = document.querySelector('img[alt=\"a.png\"]');"
        " return img && img.complete && img.naturalWidth === 1; })()"
    )
    for expected in (["1"], ["1", "2"], ["2", "3"], ["3", "4"]):
        await page.click("text=more")
        await page.wait_for_function(
            f"document.querySelector('#numbers').textContent === {''.join(expected)!r}"
        )
    # The upload survived the re-renders that streamed.
    assert await page.locator("img[alt='a.png']").count() == 1
