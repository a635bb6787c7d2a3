"""Validation: field rules, self.validate(), the errors bag, real-time checks, forms."""

from __future__ import annotations

import dataclasses
from typing import Annotated, ClassVar

import pytest

from livepy import Component, LivePy, action
from livepy.features.validation import (
    Check,
    Email,
    ErrorBag,
    Form,
    Length,
    Max,
    Min,
    Pattern,
    Required,
    ValidationError,
    errors_of,
)
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

live = LivePy(templates=[], secret_key="k")


class ValidatedSignup(Component):
    template_source = (
        "<form><p>{{ errors.first('email') }}</p><p>{{ errors.first('username') }}</p>"
        "{% if saved %}<b>saved</b>{% endif %}</form>"
    )
    messages: ClassVar[dict[str, str]] = {"email.required": "We need your email."}

    username: Annotated[str, Required(), Length(min=2, max=10)] = ""
    email: Annotated[str, Required(), Email()] = ""
    age: Annotated[int | None, Min(18), Max(130)] = None
    code: Annotated[str, Pattern(r"[A-Z]{3}")] = ""
    even: Annotated[int, Check(lambda v: v % 2 == 0, "The {field} must be even.")] = 0
    saved: bool = False
    plain: str = ""

    @action
    def save(self) -> None:
        self.validate()
        self.saved = True


def test_a_failed_validate_shows_messages_without_an_error_frame() -> None:
    test = live.test(ValidatedSignup).set_many({"username": "x"}).call("save")
    test.assert_see("We need your email.").assert_see("The username must be between 2 and 10")
    test.assert_has_errors().assert_has_errors("email").assert_has_errors("username")
    test.assert_set("username", "x").assert_set("saved", False)  # what was typed is kept
    assert not test.errors.has("age")  # empty optional fields are not checked


def test_a_passing_validate_clears_the_bag() -> None:
    test = live.test(ValidatedSignup).call("save").assert_has_errors("email")
    test.set_many({"username": "Ann", "email": "ann@example.org"}).call("save")
    test.assert_has_no_errors().assert_see("saved").assert_dont_see("We need")


def test_real_time_validation_on_update() -> None:
    test = live.test(ValidatedSignup).set("email", "nope").assert_has_errors("email")
    test.assert_see("The email must be a valid email address.")
    test.assert_has_no_errors("username")  # only the updated field is checked
    test.set("email", "a@b.io").assert_has_no_errors()
    test.set("plain", "anything").assert_has_no_errors()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age", 12, "The age must be at least 18."),
        ("age", 200, "The age must be at most 130."),
        ("code", "ab", "The code format is invalid."),
        ("even", 3, "The even must be even."),
        ("username", "a" * 11, "The username must be between 2 and 10 characters."),
    ],
)
def test_rules(field: str, value: object, message: str) -> None:
    test = live.test(ValidatedSignup).set(field, value)
    assert test.errors.get(field) == [message]


def test_validating_named_fields_only() -> None:
    instance = ValidatedSignup()
    with pytest.raises(ValidationError) as info:
        instance.validate("email")
    assert list(info.value.errors) == ["email"]
    with pytest.raises(ValueError, match="no rules for 'plain'"):
        instance.validate("plain")


class ContactForm(Form):
    name: Annotated[str, Required()] = ""
    email: Annotated[str, Required(message="Where do we answer?"), Email()] = ""


class FormContact(Component):
    template_source = "<div>{{ errors.first('form.email') }} {{ form.name }}</div>"
    form: ContactForm = ContactForm()
    sent: int = 0

    @action
    def send(self) -> None:
        self.validate("form")
        self.sent += 1
        self.form.reset()


def test_form_objects_group_fields() -> None:
    test = live.test(FormContact).call("send").assert_see("Where do we answer?")
    assert test.errors.fields() == ["form.name", "form.email"]
    test.set("form", {"name": "Bo", "email": "bo@example.org"}).assert_has_no_errors()
    test.call("send").assert_set("sent", 1).assert_set("form", {"name": "", "email": ""})
    form = ContactForm()
    form.fill(name="Al")
    assert form.name == "Al"
    with pytest.raises(TypeError, match="no field 'nope'"):
        form.fill(nope=1)


def test_error_bag() -> None:
    bag = ErrorBag({"a": ["one", "two"]})
    assert bag.first("a") == "one" and bag.first("b") == ""
    assert bag.all() == ["one", "two"] and "a" in bag and list(bag) == ["a"] and len(bag) == 1
    assert bag.has() and bag and repr(bag) == "ErrorBag({'a': ['one', 'two']})"
    bag.clear()
    assert not bag.has("a") and bag.get("a") == []


def test_length_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="min, max or both"):
        Length()
    assert Length(max=3).template() == "The {field} must be at most {max} characters."
    assert Length(min=3).template() == "The {field} must be at least {min} characters."
    assert repr(Min(1)) == "Min(min=1)"


def test_dotted_updates_reach_into_a_form() -> None:
    test = live.test(FormContact).set("form.email", "bad").assert_has_errors("form.email")
    test.assert_has_no_errors("form.name")  # only the updated path is checked
    test.set("form.email", "ok@example.org").assert_has_no_errors()
    test.assert_set("form", {"name": "", "email": "ok@example.org"})
    with pytest.raises(LivepyTestError) as info:
        test.set("form.nope", "x")
    assert info.value.code == c.ERR_BAD_UPDATE
    with pytest.raises(LivepyTestError) as info:
        test.set("sent.deeper", 1)
    assert info.value.code == c.ERR_BAD_UPDATE


class Nested(Form):
    inner: ContactForm = dataclasses.field(default_factory=ContactForm)


class DeepForm(Component):
    template_source = "<div>{{ outer.inner.name }}</div>"
    outer: Nested = Nested()


def test_dotted_updates_go_deep() -> None:
    live.test(DeepForm).set("outer.inner.name", "Zed").assert_see("Zed")


class ValidatedLogin(Component):
    template_source = "<div>{{ errors.first('password') }} {{ errors.first('user') }}</div>"
    user: str = ""
    password: str = ""

    def updating_user(self, value: str) -> None:
        if " " in value:
            raise ValidationError({"user": ["No spaces, please."]})

    @action
    def login(self) -> None:
        errors_of(self).clear()
        if self.password != "secret":
            errors_of(self).add("password", "Wrong password.")


def test_own_messages_and_a_refusing_updating_hook() -> None:
    test = (
        live.test(ValidatedLogin)
        .set("password", "nope")
        .call("login")
        .assert_see("Wrong password.")
    )
    test.set("password", "secret").call("login").assert_has_no_errors()
    test.set("user", "ann").set("user", "a b")  # handled: no error frame
    test.assert_set("user", "ann").assert_see("No spaces, please.")  # refused, and shown


def test_a_failed_call_rolls_the_error_bag_back_too() -> None:
    test = live.test(ValidatedSignup).set("email", "bad").assert_has_errors("email")
    with pytest.raises(LivepyTestError) as info:
        test.set_many({"email": "ok@example.org", "missing": 1})
    assert info.value.code == c.ERR_BAD_UPDATE
    test.assert_set("email", "bad").assert_has_errors("email")


async def test_errors_survive_a_rejoin_and_a_stateless_request() -> None:
    from livepy.features.validation import ERRORS_KEY
    from livepy.protocol.frames import Call, Join, Joined, JoinItem, Reply, decode_server_frame
    from livepy.protocol.frames import encode as encode_frame
    from livepy.session import LiveSession

    test = live.test(ValidatedSignup)
    await test.aset("email", "nope")
    assert test.state[ERRORS_KEY] == {"email": ["The email must be a valid email address."]}
    # A new connection (a reconnect, or one HTTP fallback request) rebuilds from the snapshot.
    session = LiveSession(live, client="again")
    joined = decode_server_frame(
        (await session.receive(encode_frame(Join((JoinItem("test", test.snapshot),)))))[0]
    )
    assert isinstance(joined, Joined) and "valid email address" in joined.html
    (frame,) = await session.receive(encode_frame(Call(joined.ref, 1, {"username": "Al"}, ())))
    reply = decode_server_frame(frame)
    assert isinstance(reply, Reply)  # typing in another field keeps the email's message
    assert errors_of(session.components[joined.ref].instance).fields() == ["email"]
    await test.aset("email", "a@b.io")
    assert ERRORS_KEY not in test.state  # an empty bag costs no bytes


async def test_a_component_without_messages_keeps_no_bag() -> None:
    """A bag is made when something records a message: a joined component without messages,
    and its renders (which read an empty ``errors``), keep none."""
    from livepy.features.validation import ERRORS_KEY
    from livepy.protocol.frames import Join, Joined, JoinItem, decode_server_frame
    from livepy.protocol.frames import encode as encode_frame
    from livepy.session import LiveSession

    session = LiveSession(live, client="bags")
    clean = live.snapshots.sign(ValidatedSignup.name, "clean", {"email": "a@b.io"})
    failing = live.snapshots.sign(
        ValidatedSignup.name, "failing", {"email": "x", ERRORS_KEY: {"email": ["Not valid."]}}
    )
    frames = await session.receive(
        encode_frame(
            Join((JoinItem("clean", clean.to_wire()), JoinItem("failing", failing.to_wire())))
        )
    )
    joined = [decode_server_frame(frame) for frame in frames]
    assert all(isinstance(item, Joined) for item in joined)
    by_cid = {item.cid: item for item in joined if isinstance(item, Joined)}
    assert "Not valid." in by_cid["failing"].html and "<p></p>" in by_cid["clean"].html
    instances = {live_.instance.id: live_.instance for live_ in session.components.values()}
    assert "$errors" not in vars(instances["clean"])
    assert errors_of(instances["failing"]).first("email") == "Not valid."
