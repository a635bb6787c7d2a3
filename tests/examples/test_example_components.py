"""The contact, table and cards examples' components, driven through livepy.testing."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from livepy.demo import load_example
from livepy.features.navigation.flash import Flash, read_flashes


def test_contact_validates_as_you_type_and_on_submit() -> None:
    contact = load_example("contact")
    test = contact.live.test(contact.Contact).set("form.email", "ann@")
    test.assert_has_errors("form.email").assert_see("That does not look like an email address.")
    test.set("form.email", "ann@example.org").assert_has_no_errors("form.email")
    test.call("send").assert_has_errors("form.name")
    with pytest.raises(AssertionError, match="no redirect"):
        test.assert_redirect()  # a failed validation goes nowhere
    test.assert_see("The name field is required.")
    test.set("form.message", "short").assert_see("Please write between 10 and 2000 characters.")
    test.set_many({"form.name": "Ann", "form.message": "Hello there!"}).call("send")
    test.assert_has_no_errors().assert_redirect("/thanks")
    # The thank-you message is a flash: the thanks page reads it from the cookie the token goes to.
    (token,) = [value for kind, value in test.effects if kind == "flash"]
    request = Request({"type": "http", "headers": [(b"cookie", f"livepy_flash={token}".encode())]})
    assert read_flashes(contact.live, request) == [
        Flash("Thanks! We will answer you at ann@example.org.", "success")
    ]


def test_table_restores_its_state_from_the_query_string() -> None:
    table = load_example("table")
    test = table.live.test(table.PeopleTable, query="q=oslo&sort=age&dir=desc&page=2")
    test.assert_set("search", "oslo").assert_set("sort", "age").assert_set("page", 2)
    test.assert_set("direction", "desc").assert_see("Page 2 of")
    bad = table.live.test(table.PeopleTable, query="page=-&sort=shoe&dir=up")
    bad.assert_set("page", 1).assert_set("sort", "name").assert_set("direction", "asc")
    bad.assert_see("Page 1 of 20")
    far = table.live.test(table.PeopleTable, query="page=999")
    far.assert_see("Page 20 of 20")  # an out-of-range page from an old link shows the last one
    far.set("search", "oslo").assert_set("page", 1)  # a new search starts on its first page
    far.call("sort_by", "age").call("sort_by", "age").assert_set("direction", "desc")


def test_cards_board_adds_and_removes() -> None:
    cards = load_example("cards")
    test = cards.live.test(cards.CardBoard).call("add").assert_see("3 cards")
    test.assert_see("Write the docs · Ship it · Card 3").call("remove", 1).assert_see("2 cards")


def test_a_saved_card_tells_its_board() -> None:
    cards = load_example("cards")
    card = cards.live.test(cards.EditableCard, card_id=2, title="Ship it").call("edit")
    card.call("done").assert_dispatched("saved", card_id=2)
    board = cards.live.test(cards.CardBoard).assert_see("0 saved")
    board.dispatch("saved", card_id=2).assert_see("1 saved, last: card 2")
