"""File uploads: a progress bar, image previews before saving, validation by content.

Run: uvicorn examples.uploads.app:app --reload
Saved photos go to $LIVEPY_EXAMPLE_UPLOADS (default: <tempdir>/livepy-example-photos).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, UploadedFile, action
from livepy.features.uploads import FileSize, Image, MaxFiles
from livepy.features.validation import Length, Required

live = LivePy(templates=[Path(__file__).parent / "templates"])

SAVED_DIR = Path(
    os.environ.get("LIVEPY_EXAMPLE_UPLOADS")
    or Path(tempfile.gettempdir()) / "livepy-example-photos"
)


class PhotoUpload(Component):
    template = "photo_upload.html"
    labels = {"photos": "photos"}

    photos: Annotated[
        list[UploadedFile], Required(), MaxFiles(4), FileSize(max="2MB"), Image()
    ] = []
    caption: Annotated[str, Length(max=80)] = ""
    saved: list[str] = []

    @action
    def remove(self, index: int) -> None:
        if 0 <= index < len(self.photos):
            self.photos[index].delete()
            del self.photos[index]

    @action
    def save(self) -> None:
        self.validate()
        for photo in self.photos:
            stored = photo.save_to(SAVED_DIR)
            self.saved.append(f"{stored.name} ({photo.name}, {photo.size} bytes)")
        self.photos = []
        self.caption = ""


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
