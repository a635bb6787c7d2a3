"""A todo list: a keyed list, a bound text input, add / toggle / remove.

Run: uvicorn examples.todos.app:app --reload
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action

live = LivePy(templates=[Path(__file__).parent / "templates"])


@dataclass
class Todo:
    id: int
    text: str
    done: bool = False


class Todos(Component):
    template = "todos.html"
    todos: list[Todo] = []
    draft: str = ""
    next_id: int = 1

    @action
    def add(self) -> None:
        text = self.draft.strip()
        if text:
            self.todos.append(Todo(self.next_id, text))
            self.next_id += 1
        self.draft = ""

    @action
    def toggle(self, todo_id: int) -> None:
        for todo in self.todos:
            if todo.id == todo_id:
                todo.done = not todo.done

    @action
    def remove(self, todo_id: int) -> None:
        self.todos = [todo for todo in self.todos if todo.id != todo_id]

    @property
    def remaining(self) -> int:
        return sum(not todo.done for todo in self.todos)


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
