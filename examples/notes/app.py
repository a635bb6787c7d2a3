"""Notes: the directives the other examples leave out, a lazy component and the debug overlay.

- ``lp-init="load"`` loads the notes once the page is up, from a slow store (simulated);
- the draft is a deferred ``lp-model``: ``lp-dirty`` marks it unsaved until the server has it;
- ``lp-keydown.ctrl.enter`` (or Cmd+Enter) saves it, ``lp-keydown.escape`` clears it;
- ``lp-confirm`` asks before a note is deleted; ``lp-transition`` fades notes and notices;
- ``lp-loading`` with ``lp-target="save"`` disables the Save button while it saves;
- ``lp-offline`` (in home.html) shows a banner while the socket is down;
- ``livepy("note_stats", lazy=True)`` renders a placeholder, then mounts over the socket, and
  follows the editor through a ``notes-changed`` event;
- ``LivePy(debug=True)``: "Fail on purpose" raises, and the debug overlay shows the traceback.
  Never run with debug in production: it sends tracebacks to the browser.

Run: uvicorn examples.notes.app:app --reload
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, Locked, action, on

live = LivePy(templates=[Path(__file__).parent / "templates"], debug=True)


@dataclass
class Note:
    id: int
    text: str


STORED = [Note(1, "Buy tea"), Note(2, "Call Ada about the launch")]


class NoteEditor(Component):
    template = "note_editor.html"
    notes: list[Note] = []
    draft: str = ""
    loaded: bool = False
    just_saved: bool = False
    next_id: Locked[int] = 1

    @action
    async def load(self) -> None:
        await asyncio.sleep(0.3)  # stands in for a slow database query
        self.notes = [Note(note.id, note.text) for note in STORED]
        self.next_id = max((note.id for note in self.notes), default=0) + 1
        self.loaded = True
        self._tell_the_stats()

    @action
    def save(self) -> None:
        text = self.draft.strip()
        self.just_saved = bool(text)
        if text:
            self.notes.append(Note(self.next_id, text))
            self.next_id += 1
            self.draft = ""
            self._tell_the_stats()

    @action
    def clear(self) -> None:
        self.draft = ""
        self.just_saved = False

    @action
    def delete(self, note_id: int) -> None:
        self.notes = [note for note in self.notes if note.id != note_id]
        self.just_saved = False
        self._tell_the_stats()

    @action
    def fail(self) -> None:
        raise RuntimeError("failed on purpose: with debug=True the overlay shows this traceback")

    def _tell_the_stats(self) -> None:
        words = sum(len(note.text.split()) for note in self.notes)
        self.dispatch("notes-changed", count=len(self.notes), words=words).to("note_stats")


class NoteStats(Component):
    """Rendered lazily: the page shows its placeholder, and it mounts once the page joins it."""

    template = "note_stats.html"
    count: int = 0
    words: int = 0

    def placeholder(self, **props: Any) -> str:
        return '<aside class="card stats" aria-busy="true">Counting…</aside>'

    @on("notes-changed")
    def update(self, count: int, words: int) -> None:
        self.count, self.words = count, words


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
