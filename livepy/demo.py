"""The demo gallery: every example app mounted under its own path, with an index page."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route

from livepy.paths import EXAMPLES_DIR

__all__ = ["EXAMPLES", "build_demo", "load_example"]

EXAMPLES = {
    "counter": "A counter: actions with arguments, and a loading indicator.",
    "todos": "A todo list: a keyed list and a live-bound text input.",
    "dashboard": "A live dashboard: numbers broadcast to every open tab.",
    "uploads": "File uploads: a progress bar, image previews, validation by content.",
    "feed": "A log feed on a stream: append, pin, remove, with nothing kept on the server.",
    "chart": "A chart drawn by an lp-hook in plain SVG, fed by server actions and lp-poll.",
    "contact": "A contact form with live validation, then a redirect and a flash message.",
    "table": "A searchable, sortable, paginated table bound to the query string.",
    "cards": "Nested components: editable cards bound to the board, which hears their events.",
    "notes": "Notes: lp-init, lp-dirty, lp-keydown, lp-confirm, lp-transition, lp-offline, "
    "a lazy component and the debug overlay.",
    "chat": "A chat room: who is online, typing indicators over whispers, messages for all.",
    "orders": "Order tracking on private channels: only an order's owner sees its updates.",
    "monitor": "A live monitor built with livepy: connections, messages/s, channel subscribers.",
}


def load_example(name: str, examples_dir: Path = EXAMPLES_DIR) -> ModuleType:
    """Import ``examples/<name>/app.py`` as module ``livepy_examples.<name>``."""
    module_name = f"livepy_examples.{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, examples_dir / name / "app.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"example {name!r} not found in {examples_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # a later load raises the same error, not a half module
        raise
    return module


def build_demo() -> Starlette:
    items = "".join(
        f'<li><a href="/{name}/">{name}</a>: {text}</li>' for name, text in EXAMPLES.items()
    )
    index_html = (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "<title>livepy demo</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto}</style>"
        f"</head><body><h1>livepy demo</h1><ul>{items}</ul></body></html>"
    )

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(index_html)

    routes: list[BaseRoute] = [Route("/", index)]
    routes += [Mount(f"/{name}", app=load_example(name).app) for name in EXAMPLES]
    return Starlette(routes=routes)
