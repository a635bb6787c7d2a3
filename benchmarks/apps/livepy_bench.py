"""Benchmark components: a 200-row table and a 200-item list.

Serve: ``PYTHONPATH=.:benchmarks/apps uvicorn livepy_bench:app`` (the benchmarks start it).
Pages: ``/table`` (``Table``: 200 rows x 5 cells, ``set_status`` changes one cell) and
``/list`` (``List``: 200 items, ``append`` adds one at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from livepy import Component, LivePy, action

ROWS = 200
STATUSES = ("pending", "paid", "shipped", "delivered", "refunded")
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")

live = LivePy(templates=[Path(__file__).parent])


@dataclass
class Order:
    id: int
    customer: str
    email: str
    status: str
    amount: int  # cents


def make_order(n: int) -> Order:
    first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
    return Order(
        id=n,
        customer=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}{n}@example.com",
        status=STATUSES[n % 3],
        amount=(n * 7919) % 100_000,
    )


class Table(Component):
    """200 orders, 5 cells each; ``set_status`` changes one cell."""

    template_source = """<table class="orders">
  <thead><tr><th>#</th><th>Customer</th><th>Email</th><th>Status</th><th>Amount</th></tr></thead>
  <tbody>
  {%- for o in orders %}
    <tr lp-key="{{ o.id }}"><td>{{ o.id }}</td><td>{{ o.customer }}</td><td>{{ o.email }}</td>\
<td class="status">{{ o.status }}</td><td class="num">{{ '%.2f' % (o.amount / 100) }}</td></tr>
  {%- endfor %}
  </tbody>
</table>"""
    orders: list[Order] = []

    def mount(self, rows: int = ROWS) -> None:
        self.orders = [make_order(n) for n in range(1, rows + 1)]

    @action
    def set_status(self, order_id: int, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        for order in self.orders:
            if order.id == order_id:
                order.status = status


@dataclass
class Item:
    id: int
    title: str
    author: str


class List(Component):
    """200 items; ``append`` adds one row at the end."""

    template_source = """<ul class="feed">
  {%- for item in items %}
  <li lp-key="{{ item.id }}"><strong>{{ item.title }}</strong> \
<small>by {{ item.author }}</small></li>
  {%- endfor %}
</ul>"""
    items: list[Item] = []
    next_id: int = 1

    def mount(self, rows: int = ROWS) -> None:
        for _ in range(rows):
            self.append()

    @action
    def append(self) -> None:
        n = self.next_id
        author = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
        self.items.append(Item(n, f"Item number {n}", author))
        self.next_id += 1


PAGE = """<!doctype html>
<html><head><title>{{ name }} · livepy benchmark</title>{{ livepy_scripts() }}</head>
<body>{{ livepy(name) }}</body></html>"""


def page(name: str):  # type: ignore[no-untyped-def]
    template = live.env.from_string(PAGE)

    async def endpoint(request: Request) -> Response:
        return HTMLResponse(template.render(request=request, name=name))

    return endpoint


app = Starlette(routes=[Route("/table", page("table")), Route("/list", page("list"))])
live.install(app)
