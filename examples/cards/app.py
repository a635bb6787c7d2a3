"""Nested components: a board of cards, each card its own component, edited in place.

Each card's title is a ``Modelable`` field bound to the board's list (``bind=``), so the
board's summary follows every keystroke while each card keeps its own edit state. A card
that is saved dispatches a ``saved`` event up to the board, whose ``@on("saved")`` listener
counts the saves.
Run: uvicorn examples.cards.app:app --reload
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, Locked, Modelable, action, on

live = LivePy(templates=[Path(__file__).parent / "templates"])


@dataclass
class CardData:
    id: int
    title: str


class EditableCard(Component):
    """One card: shows its title, or an input while it is being edited."""

    template = "card.html"
    card_id: Locked[int] = 0
    title: Modelable[str] = ""  # bound to the board's cards[i].title
    editing: bool = False

    @action
    def edit(self) -> None:
        self.editing = True

    @action
    def done(self) -> None:
        self.title = self.title.strip() or "Untitled"
        self.editing = False
        self.dispatch("saved", card_id=self.card_id).up()  # to the board it sits in


class CardBoard(Component):
    template = "board.html"
    cards: list[CardData] = [CardData(1, "Write the docs"), CardData(2, "Ship it")]
    next_id: Locked[int] = 3
    saves: int = 0
    last_saved: int = 0

    @on("saved")
    def count_save(self, card_id: int) -> None:
        self.saves += 1
        self.last_saved = card_id

    @action
    def add(self) -> None:
        self.cards.append(CardData(self.next_id, f"Card {self.next_id}"))
        self.next_id += 1

    @action
    def remove(self, card_id: int) -> None:
        self.cards = [card for card in self.cards if card.id != card_id]

    @property
    def characters(self) -> int:
        return sum(len(card.title) for card in self.cards)


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
