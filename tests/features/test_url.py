"""URL binding: fields restored from the page's query string, and the config the browser reads."""

from __future__ import annotations

import enum
import html
import json
import re
from typing import Annotated, Literal

import httpx
import pytest

from livepy import Component, ComponentDefinitionError, LivePy, Url, url
from livepy.features.url import MAX_URL_VALUE_CHARS, url_fields
from livepy.protocol import constants as c
from tests.conftest import ServeFactory, page_app

live = LivePy(templates=[], secret_key="k")


class Shade(enum.Enum):
    RED = "red"
    BLUE = "blue"


class UrlSearch(Component):
    template_source = "<div>{{ search }}|{{ page }}|{{ shade.value }}|{{ tags|join(',') }}</div>"
    search: Url[str] = ""
    page: Annotated[int, url(as_="p", history=True)] = 1
    shade: Url[Shade] = Shade.RED
    tags: Url[list[str]] = []
    sort: Annotated[Literal["name", "age"], url(keep=True)] = "name"
    ratio: Url[float | None] = None
    private: str = "kept"

    def mount(self, page: int = 1) -> None:
        self.page = page


def test_fields_are_restored_and_converted_to_their_types() -> None:
    test = live.test(UrlSearch, query="search=shoes&p=3&shade=blue&tags=a&tags=b&ratio=0.5")
    test.assert_set("search", "shoes").assert_set("page", 3).assert_set("shade", "blue")
    test.assert_set("tags", ["a", "b"]).assert_set("ratio", 0.5).assert_see("shoes|3|blue|a,b")


def test_the_query_wins_over_mount_and_others_are_untouched() -> None:
    test = live.test(UrlSearch, page=7, query={"p": "2", "private": "hacked"})
    test.assert_set("page", 2).assert_set("private", "kept")
    live.test(UrlSearch, page=7).assert_set("page", 7)  # no query: mount's value stays


@pytest.mark.parametrize(
    "query",
    [
        "p=abc",  # not an int
        "p=99999999999999999999999999",  # beyond 64 bits
        "shade=green",  # not a member
        "sort=height",  # not a Literal choice
        "ratio=nan",
        "search=" + "x" * (MAX_URL_VALUE_CHARS + 1),  # too long
        "tags=" + "&tags=".join("x" * 101),  # too many items
    ],
)
def test_a_bad_value_is_ignored_and_the_default_kept(query: str) -> None:
    test = live.test(UrlSearch, query=query)
    test.assert_set("page", 1).assert_set("shade", "red").assert_set("sort", "name")
    test.assert_set("ratio", None).assert_set("search", "").assert_set("tags", [])


def test_the_root_tells_the_browser_which_fields_are_bound() -> None:
    instance = UrlSearch()
    instance.id = "x"
    match = re.search(c.ATTR_URL + r'="([^"]*)"', live.renderer.render_page_html(instance))
    assert match is not None
    assert c.ATTR_URL not in live.test(UrlSearch).html  # on the first render only
    config = json.loads(html.unescape(match.group(1)))
    assert config == {
        "search": ["search", 0, 0, "", 0],
        "page": ["p", 1, 0, 1, 0],
        "shade": ["shade", 0, 0, "red", 0],
        "tags": ["tags", 0, 0, [], 1],
        "sort": ["sort", 0, 1, "name", 0],
        "ratio": ["ratio", 0, 0, None, 0],
    }
    assert [f.name for f in url_fields(UrlSearch)] == list(config)


def test_unsupported_types_and_clashing_keys_are_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="must be a str, int"):

        class UrlBadType(Component):
            template_source = "<div></div>"
            filters: Url[dict[str, str]] = {}

    with pytest.raises(ComponentDefinitionError, match="'q' is already bound to 'search'"):

        class UrlClash(Component):
            template_source = "<div></div>"
            search: Annotated[str, url(as_="q")] = ""
            query: Annotated[str, url(as_="q")] = ""

    with pytest.raises(ValueError, match="non-empty string"):
        url(as_=" ")


async def test_a_page_request_restores_the_fields(serve: ServeFactory) -> None:
    app = page_app(LivePy(templates=[], secret_key="k"), "url_search")
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        good = await http.get(server.url + "/?search=a%26b&p=4")
        bad = await http.get(server.url + "/?p=four")
    assert good.status_code == 200 and "a&amp;b|4|red|" in good.text
    assert bad.status_code == 200 and "|1|red|" in bad.text
