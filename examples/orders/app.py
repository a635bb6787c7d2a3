"""Order tracking on private channels: only an order's owner sees its updates.

Run: uvicorn examples.orders.app:app
Sign in as alice in one browser and as bob in another (a private window), then move the
orders along at the staff desk (on the same page, for the demo): each owner sees only their
own orders change.

- The demo login is a cookie naming one of two users; ``user_resolver`` reads it. A real app
  would use Starlette's ``AuthenticationMiddleware`` and its sessions; livepy reads
  ``scope["user"]`` just the same.
- ``OrderTracker`` listens on ``private-orders.{order_id}``. The channel rule below lets only the
  order's owner listen. The browser can change any state field, ``order_id`` included: pointing
  a tracker at someone else's order gets a ``channel_forbidden`` error and not a single event.
- The staff desk broadcasts ``StatusChanged`` on the order's private channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livepy import Component, LivePy, action, on

COOKIE = "orders_user"
USERS = {"alice": "Alice", "bob": "Bob"}
STEPS = ["placed", "packed", "shipped", "delivered"]
ORDERS: dict[int, dict[str, Any]] = {
    1: {"owner": "alice", "item": "Teapot", "status": "placed"},
    2: {"owner": "bob", "item": "Kettle", "status": "placed"},
    3: {"owner": "bob", "item": "Tea cups", "status": "placed"},
}


def user_of(conn: HTTPConnection) -> str | None:
    user = conn.cookies.get(COOKIE)
    return user if user in USERS else None


live = LivePy(templates=[Path(__file__).parent / "templates"], user_resolver=user_of)


@live.channel("orders.{order_id}")
def owns_order(user: str | None, order_id: int) -> bool:
    order = ORDERS.get(order_id)
    return user is not None and order is not None and order["owner"] == user


class OrderTracker(Component):
    template = "order_tracker.html"
    order_id: int = 0
    item: str = ""
    status: str = ""

    def mount(self, order_id: int) -> None:
        self.order_id = order_id
        self.item, self.status = ORDERS[order_id]["item"], ORDERS[order_id]["status"]

    @on("private-orders.{order_id}", "StatusChanged")
    def changed(self, event: dict[str, Any]) -> None:
        self.status = event["status"]


class StaffDesk(Component):
    template = "staff_desk.html"
    orders: list[dict[str, str]] = []

    def mount(self) -> None:
        self.orders = [
            {"id": str(oid), **{k: str(v) for k, v in order.items()}}
            for oid, order in sorted(ORDERS.items())
        ]

    @action
    def advance(self, order_id: int) -> None:
        order = ORDERS.get(order_id)
        if order is None:
            return
        order["status"] = STEPS[min(STEPS.index(order["status"]) + 1, len(STEPS) - 1)]
        self.mount()
        self.broadcast(f"private-orders.{order_id}", "StatusChanged", {"status": order["status"]})


async def home(request: Request) -> Response:
    user = user_of(request)
    mine = [oid for oid, order in sorted(ORDERS.items()) if order["owner"] == user]
    context = {"user": USERS.get(user or ""), "orders": mine}
    return live.templates.TemplateResponse(request, "home.html", context)


async def login(request: Request) -> Response:
    user = request.query_params.get("user", "")
    response = RedirectResponse(f"{request.scope.get('root_path', '')}/", status_code=303)
    if user in USERS:
        response.set_cookie(COOKIE, user, httponly=True, samesite="lax")
    else:
        response.delete_cookie(COOKIE)
    return response


app = Starlette(routes=[Route("/", home), Route("/login", login)])
live.install(app)
