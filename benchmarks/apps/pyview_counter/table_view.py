"""200-row table LiveView (pyview-web 0.9.0): `set_status` changes one cell (cf. livepy_bench)."""

from typing import Any, TypedDict

from pyview import LiveView, LiveViewSocket

ROWS = 200
STATUSES = ("pending", "paid", "shipped", "delivered", "refunded")
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")


def make_order(n: int) -> dict[str, Any]:
    first, last = FIRST[n % len(FIRST)], LAST[n % len(LAST)]
    amount = (n * 7919) % 100_000
    return {
        "id": n,
        "customer": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{n}@example.com",
        "status": STATUSES[n % 3],
        "amount": f"{amount / 100:.2f}",
    }


class TableContext(TypedDict):
    orders: list[dict[str, Any]]


class TableLiveView(LiveView[TableContext]):
    async def mount(self, socket: LiveViewSocket[TableContext], session):
        socket.context = {"orders": [make_order(n) for n in range(1, ROWS + 1)]}

    async def handle_event(self, event, payload, socket: LiveViewSocket[TableContext]):
        if event == "set_status" and payload["status"] in STATUSES:
            order_id = int(payload["order_id"])
            for order in socket.context["orders"]:
                if order["id"] == order_id:
                    order["status"] = payload["status"]
