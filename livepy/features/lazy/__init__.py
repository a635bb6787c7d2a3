"""Lazy components: ``{{ livepy("report", lazy=True, year=2024) }}`` renders a placeholder first.

The page gets a placeholder root (the component's root tag with a loading text, or the
component's own ``placeholder()`` / ``placeholder_template``) carrying a signed snapshot whose
state is only the props, under ``LAZY_KEY``. ``mount()`` has not run. When the browser joins
that snapshot, the session calls ``mount_lazy``: ``mount(**props)`` runs then, on the socket,
and the JOINED frame carries the real html and a state patch replacing the props, so a later
rejoin restores the mounted state rather than mounting again.

``lazy="visible"`` also marks the root ``lp-lazy="visible"``: the browser then joins the
component only once its placeholder scrolls into view (``js/lazy.js``).

The props are signed, not encrypted: like any state, the browser can read them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgpack
from markupsafe import escape

from livepy import features
from livepy.exceptions import RenderError
from livepy.protocol import constants as c
from livepy.render.tagging import tag_root

if TYPE_CHECKING:
    from livepy.component import Component
    from livepy.render.environment import ComponentRenderer

__all__ = ["ATTR_LAZY", "LAZY_KEY", "LOADING_TEXT", "mount_lazy", "render_placeholder"]

# Where a placeholder's snapshot keeps the props: not an identifier, so never a field name.
LAZY_KEY = "$lazy"
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


def render_placeholder(
    renderer: ComponentRenderer, instance: Component, props: dict[str, Any], mode: Any
) -> str:
    """The placeholder of a lazy component, ``instance`` (not mounted), with its signed props."""
    cls = type(instance)
    if mode is not True and mode != "visible":
        raise RenderError(f"livepy({cls.name!r}, lazy=...) takes True or 'visible', not {mode!r}")
    _check_props(cls.name, props)
    attributes = {c.ATTR_ID: instance.id, **features.root_attributes(instance)}
    if mode == "visible":
        attributes[ATTR_LAZY] = "visible"
    snapshot = renderer.live.snapshots.sign(cls.name, instance.id, {LAZY_KEY: props})
    attributes[c.ATTR_SNAPSHOT] = snapshot.to_attribute()
    html = _placeholder_html(renderer, instance, props)
    where = f"{cls.__qualname__} placeholder"
    return tag_root(html, attributes, component=cls.name, template=where)


def mount_lazy(instance: Component, state: dict[str, Any]) -> None:
    """A placeholder's first join: run ``mount()`` with the props its snapshot carried."""
    props = state[LAZY_KEY]
    if not isinstance(props, dict):
        raise TypeError(f"the lazy props of {type(instance).name!r} are not a mapping")
    instance.mount(**props)
    features.mounted(instance, None)
