"""A contact form with live validation: messages appear and go as you type.

A successful submit flashes a thank-you message and redirects to the thanks page with
``navigate=True``: the page is swapped in without a reload and shows the message once.
Run: uvicorn examples.contact.app:app --reload
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, Locked, action
from livepy.features.validation import Email, Form, Length, Required

live = LivePy(templates=[Path(__file__).parent / "templates"])


class ContactForm(Form):
    """The fields of the form and their rules, validated under "form.name", "form.email"..."""

    name: Annotated[str, Required(), Length(max=80)] = ""
    email: Annotated[str, Required(), Email()] = ""
    message: Annotated[str, Required(), Length(min=10, max=2000)] = ""


class Contact(Component):
    template = "contact.html"
    # Messages of your own, by "path.rule" or by rule; the rest are the defaults.
    messages: ClassVar[dict[str, str]] = {
        "form.email.email": "That does not look like an email address.",
        "form.message.length": "Please write between {min} and {max} characters.",
    }
    labels: ClassVar[dict[str, str]] = {"form.email": "email address"}

    form: ContactForm = ContactForm()
    thanks_url: Locked[str] = "/thanks"  # the page passes it with its mount path

    @action
    def send(self) -> None:
        self.validate()  # a failure shows the messages and keeps what was typed
        # A real app would send the mail here.
        self.flash(f"Thanks! We will answer you at {self.form.email}.", "success")
        self.redirect(self.thanks_url, navigate=True)


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


async def thanks(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "thanks.html")


app = Starlette(routes=[Route("/", home), Route("/thanks", thanks)])
live.install(app)
