"""A searchable, sortable, paginated table whose search, sort and page live in the URL.

Reloading keeps them, and back/forward steps through sorts and pages.
Run: uvicorn examples.table.app:app --reload
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action, computed, url

live = LivePy(templates=[Path(__file__).parent / "templates"])

Column = Literal["name", "city", "age"]
COLUMNS: tuple[Column, ...] = ("name", "city", "age")


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    city: str
    age: int


def generate_people(count: int = 200, seed: int = 7) -> list[Person]:
    """The same ``count`` people every time, so that pages and tests are reproducible."""
    rng = random.Random(seed)
    first = ["Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Guido", "Edsger"]
    last = ["Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton"]
    cities = ["Oslo", "Lima", "Kyoto", "Accra", "Quito", "Perth", "Turin", "Dakar"]
    people = []
    for i in range(1, count + 1):
        name = f"{rng.choice(first)} {rng.choice(last)} {i}"
        people.append(Person(i, name, rng.choice(cities), rng.randint(18, 90)))
    return people


PEOPLE = generate_people()


class PeopleTable(Component):
    template = "table.html"
    per_page: ClassVar[int] = 10

    # The query string mirrors these: ?q=...&sort=age&dir=desc&page=3
    search: Annotated[str, url(as_="q")] = ""
    sort: Annotated[Column, url(history=True)] = "name"
    direction: Annotated[Literal["asc", "desc"], url(as_="dir", history=True)] = "asc"
    page: Annotated[int, url(history=True)] = 1

    def updated_search(self, value: str) -> None:
        self.page = 1  # a new search starts from its first page

    @computed
    def matches(self) -> list[Person]:
        needle = self.search.strip().lower()
        found = [p for p in PEOPLE if needle in p.name.lower() or needle in p.city.lower()]
        return sorted(found, key=lambda p: getattr(p, self.sort), reverse=self.direction == "desc")

    @computed
    def pages(self) -> int:
        return max(1, math.ceil(len(self.matches) / self.per_page))

    @computed
    def rows(self) -> list[Person]:
        page = min(max(self.page, 1), self.pages)  # a page from an old link may be out of range
        start = (page - 1) * self.per_page
        return self.matches[start : start + self.per_page]

    @action
    def sort_by(self, column: Column) -> None:
        if self.sort == column:
            self.direction = "desc" if self.direction == "asc" else "asc"
        else:
            self.sort, self.direction = column, "asc"
        self.page = 1

    @action
    def go(self, page: int) -> None:
        self.page = min(max(page, 1), self.pages)


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
