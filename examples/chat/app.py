"""A chat room: who is online (presence), typing indicators (whispers), messages for everyone.

Run: uvicorn examples.chat.app:app
Open two browsers (or a private window), pick two names (a first visit gets a guest name),
and type: the other one sees
"Ada is typing…" without a server round trip, and messages appear in both.

- The demo login is a cookie holding a name; ``user_resolver`` turns it into the user.
- ``@live.channel("chat.{room}")`` admits every signed-in user to ``presence-chat.<room>`` and
  returns the member info that the presence list shows.
- Typing indicators are whispers: ``lp-whisper`` on the input sends ``typing`` on the channel,
  and a few lines of JS (``livepy.channel(...).listenForWhisper``) show them, naming the member
  by the ``user_id`` the server attached (a whisper's own data is whatever the browser sent).
  The server only relays them; they never touch a component.
- A message is an action that broadcasts ``Message`` on the room's channel; every member's
  component (the sender's too) appends it.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livepy import Component, LivePy, Locked, action, on, on_presence

COOKIE = "chat_name"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]{0,23}$")
MAX_MESSAGES = 50


def user_of(conn: HTTPConnection) -> dict[str, str] | None:
    """The demo login: the name in the cookie (a real app would use its sessions)."""
    name = conn.cookies.get(COOKIE, "")
    return {"id": name, "name": name} if NAME.match(name) else None


live = LivePy(templates=[Path(__file__).parent / "templates"], user_resolver=user_of)


@live.channel("chat.{room}")
def chat_member(user: dict[str, str] | None, room: str) -> dict[str, str] | None:
    return {"id": user["id"], "name": user["name"]} if user else None


class ChatRoom(Component):
    template = "chat_room.html"
    room: Locked[str] = "lobby"
    me: Locked[str] = ""  # the signed-in name, signed into the snapshot at mount
    online: list[str] = []
    posts: list[dict[str, str]] = []
    draft: str = ""

    @on_presence("presence-chat.{room}")
    def here(self, members: list[dict[str, Any]]) -> None:
        self.online = sorted(str(m.get("name", "?")) for m in members)

    @on("presence-chat.{room}", "Message")
    def received(self, message: dict[str, str]) -> None:
        self.posts = [*self.posts, message][-MAX_MESSAGES:]

    @action
    def send(self) -> None:
        text = self.draft.strip()[:500]
        if text:
            self.broadcast(f"presence-chat.{self.room}", "Message", {"name": self.me, "text": text})
        self.draft = ""


async def home(request: Request) -> Response:
    user = user_of(request)
    if user is None:  # a first visit: a guest name, kept in the cookie from now on
        name = f"Guest{random.randint(1000, 9999)}"
        user = {"id": name, "name": name}
    response = live.templates.TemplateResponse(request, "home.html", {"user": user})
    response.set_cookie(COOKIE, user["name"], httponly=True, samesite="lax")
    return response


async def login(request: Request) -> Response:
    name = str(request.query_params.get("name", "")).strip()
    root = request.scope.get("root_path", "")
    response = RedirectResponse(f"{root}/", status_code=303)
    if NAME.match(name):
        response.set_cookie(COOKIE, name, httponly=True, samesite="lax")
    return response


app = Starlette(routes=[Route("/", home), Route("/login", login)])
live.install(app)
