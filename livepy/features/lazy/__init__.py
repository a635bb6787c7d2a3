"""Lazy components: ``{{ livepy("report", lazy=True, year=2024) }}`` renders a placeholder first.

The page gets a placeholder root (the component's root tag with a loading text, or the
component's own ``placeholder()`` / ``placeholder_template``) carrying a signed snapshot whose
state is only the props, under ``LAZY_KEY``. ``mount()`` has not run. When the browser joins
that snapshot, ``LazyHook.joining`` (asked by the session like every feature hook) runs
``mount(**props)`` on the socket, then the ``mounted`` hooks of every feature with a stand-in
request for the page the placeholder was rendered on (so ``Url`` fields are restored from its
query string), then sets a ``bind=`` field to the parent's value at placeholder time. The
JOINED frame carries the real html and a state patch replacing the props, so a later rejoin
restores the mounted state rather than mounting again.

Inside a parent's template the placeholder is tracked like any child (``features.props``), so
reactive props and ``bind=`` keep the child in step once it has joined.

``lazy="visible"`` also marks the root ``lp-lazy="visible"``: the browser then joins the
component only once its placeholder scrolls into view (``js/lazy.js``).

The props are signed, not encrypted: like any state, the browser can read them.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import msgpack
from markupsafe import escape
from starlette.requests import Request

from livepy import features
from livepy.convert import ConversionError, convert
from livepy.exceptions import RenderError
from livepy.features.hooks import Hook
from livepy.features.props import bound_wire, track_child
from livepy.protocol import constants as c

if TYPE_CHECKING:
    from livepy.component import Component
    from livepy.render.environment import ComponentRenderer

__all__ = [
    "ATTR_LAZY",
    "LAZY_BOUND_KEY",
    "LAZY_KEY",
    "LAZY_PAGE_KEY",
    "LOADING_TEXT",
    "MAX_PAGE_URL_CHARS",
    "LazyHook",
    "mount_lazy",
    "render_placeholder",
]

logger = logging.getLogger("livepy.lazy")

# Where a placeholder's snapshot keeps the props: not an identifier, so never a field name.
LAZY_KEY = "$lazy"
# The page the placeholder was rendered on ("/path?query", only when it has a query): the
# join has no page request of its own, and Url fields are restored from this one.
LAZY_PAGE_KEY = "$lazy_page"
# A bind= field's value (wire form) when the placeholder was rendered: {field: value}.
LAZY_BOUND_KEY = "$lazy_bound"
# A longer page URL is not kept (the snapshot rides on every join); Url fields keep mount()'s.
MAX_PAGE_URL_CHARS = 4096
# The attribute telling the browser to wait until the placeholder is visible before joining.
ATTR_LAZY = "lp-lazy"
LOADING_TEXT = "Loading…"

# The first element of a template source, past Jinja comments and tags and HTML comments.
_JINJA_NOISE = re.compile(r"\{#.*?#\}|\{%.*?%\}|<!--.*?-->", re.S)
_FIRST_TAG = re.compile(r"<([a-zA-Z][\w:-]*)")
_root_tags: dict[type[Component], str] = {}


def _root_tag(renderer: ComponentRenderer, cls: type[Component]) -> str:
    """The tag name the component's template starts with (``div`` when it cannot be told)."""
    tag = _root_tags.get(cls)
    if tag is None:
        source = cls.template_source
        if source is None and cls.template is not None:
            env = renderer.live.env
            loader = env.loader
            source = loader.get_source(env, cls.template)[0] if loader is not None else ""
        match = _FIRST_TAG.search(_JINJA_NOISE.sub("", source or ""))
        tag = match.group(1).lower() if match else "div"
        _root_tags[cls] = tag
    return tag


def _placeholder_html(
    renderer: ComponentRenderer, instance: Component, props: dict[str, Any]
) -> str:
    cls = type(instance)
    custom = getattr(instance, "placeholder", None)
    if callable(custom):
        return str(custom(**props))
    template_name = getattr(cls, "placeholder_template", None)
    if isinstance(template_name, str):
        return renderer.live.env.get_template(template_name).render(props)
    tag = _root_tag(renderer, cls)
    return f'<{tag} aria-busy="true">{escape(LOADING_TEXT)}</{tag}>'


def _check_props(name: str, props: dict[str, Any]) -> None:
    for key, value in props.items():
        try:
            msgpack.packb(value, use_bin_type=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise RenderError(
                f"lazy component {name!r}: prop {key!r} cannot travel in its snapshot ({exc}); "
                "pass plain data (str, int, float, bool, None, lists, dicts)"
            ) from None


def _page_url(request: Any) -> str | None:
    """``"/path?query"`` of the page request, when it has a query worth keeping."""
    url = getattr(request, "url", None)
    if url is None or not url.query:
        return None
    page = f"{url.path}?{url.query}"
    if len(page) > MAX_PAGE_URL_CHARS:
        logger.info("event=lazy_page_url_dropped length=%d", len(page))
        return None
    return page


def _page_request(page: Any) -> Request | None:
    """A stand-in GET for the page a placeholder was rendered on (no headers, no cookies)."""
    if not isinstance(page, str):
        return None
    path, _, query = page.partition("?")
    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    return Request({**scope, "query_string": query.encode("latin-1", errors="replace")})


def render_placeholder(
    renderer: ComponentRenderer,
    instance: Component,
    props: dict[str, Any],
    mode: Any,
    *,
    parent: Component | None = None,
    bind: str | None = None,
    request: Any = None,
) -> str:
    """The placeholder of a lazy component, ``instance`` (not mounted), with its signed props.

    ``parent``: the component whose template embeds it, which tracks it like any child
    (reactive props, ``bind``); ``request``: the page request, whose query is kept for join.
    """
    cls = type(instance)
    if mode is not True and mode != "visible":
        raise RenderError(f"livepy({cls.name!r}, lazy=...) takes True or 'visible', not {mode!r}")
    _check_props(cls.name, props)
    state: dict[str, Any] = {LAZY_KEY: props}
    if parent is not None:
        track_child(parent, cls, instance.id, props, bind)
        if bind is not None:
            state[LAZY_BOUND_KEY] = bound_wire(parent, cls, bind)
    page = _page_url(request)
    if page is not None:
        state[LAZY_PAGE_KEY] = page
    attributes = {c.ATTR_ID: instance.id, **features.root_attributes(instance)}
    if mode == "visible":
        attributes[ATTR_LAZY] = "visible"
    snapshot = renderer.live.snapshots.sign(cls.name, instance.id, state)
    attributes[c.ATTR_SNAPSHOT] = snapshot.to_attribute()
    # Imported here: livepy.render imports this module, and livepy.features imports LazyHook.
    from livepy.render.tagging import tag_root

    html = _placeholder_html(renderer, instance, props)
    where = f"{cls.__qualname__} placeholder"
    return tag_root(html, attributes, component=cls.name, template=where)


def mount_lazy(instance: Component, state: dict[str, Any]) -> None:
    """A placeholder's first join: run ``mount()`` with the props its snapshot carried, the
    features' ``mounted`` hooks with its page, and take the bound value, as a page render does."""
    cls = type(instance)
    props = state[LAZY_KEY]
    bound = state.get(LAZY_BOUND_KEY) or {}
    if not isinstance(props, dict) or not isinstance(bound, dict):
        raise TypeError(f"the lazy props of {cls.name!r} are not a mapping")
    instance.mount(**props)
    features.mounted(instance, _page_request(state.get(LAZY_PAGE_KEY)))
    for name, wire in bound.items():
        state_field = cls.__state_fields__.get(name)
        if state_field is None:  # a snapshot signed before the field was renamed
            raise ConversionError(f"{cls.__name__} has no field {name!r} to bind")
        setattr(instance, name, convert(wire, state_field.annotation, name))


class LazyHook(Hook):
    def joining(self, instance: Component, state: dict[str, Any]) -> bool:
        if LAZY_KEY not in state:
            return False
        mount_lazy(instance, state)
        return True
