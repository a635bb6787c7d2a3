"""The Jinja environment: template loading, the page globals and component rendering."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from contextvars import ContextVar
from os import PathLike
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from livepy import features, registry
from livepy.exceptions import ComponentDefinitionError, RenderError
from livepy.features.lazy import render_placeholder
from livepy.features.navigation.flash import read_flashes
from livepy.features.props import track_child
from livepy.protocol import constants as c
from livepy.render.tagging import tag_root

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.component import Component

__all__ = ["ComponentRenderer", "build_environment", "new_component_id"]


_ROOT_TAG = re.compile(r"\s*(?:<!--.*?-->\s*)*<([a-zA-Z][\w:-]*)", re.S)


class _RenderFrame:
    """The component whose template is rendering, and the children it embedded so far."""

    def __init__(self, parent: Component) -> None:
        self.parent = parent
        self.seen: set[str] = set()
        self.ordinal = 0


_rendering: ContextVar[_RenderFrame | None] = ContextVar("livepy_rendering", default=None)


def new_component_id() -> str:
    return secrets.token_urlsafe(6)


def build_environment(
    live: LivePy, directories: Sequence[str | PathLike[str]]
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(directories)),
        autoescape=True,
        auto_reload=live.debug,
    )
    env.globals["livepy"] = jinja2.pass_context(
        lambda context, name, **props: live.renderer.embed(context, name, props)
    )
    env.globals["livepy_scripts"] = jinja2.pass_context(
        lambda context, **options: live.renderer.scripts(context, **options)
    )
    # The flash messages of the page's request (livepy/features/navigation/flash.py).
    env.globals["flashes"] = jinja2.pass_context(
        lambda context: read_flashes(live, context.get("request"))
    )
    return env


def _root_path(context: jinja2.runtime.Context) -> str:
    request = context.get("request")
    scope = getattr(request, "scope", None) or {}
    return str(scope.get("root_path", "")).rstrip("/")


class ComponentRenderer:
    """Renders component instances to tagged HTML, and the page-level globals."""

    def __init__(self, live: LivePy) -> None:
        self.live = live
        # Each class's template and its name; file templates only without auto_reload (debug),
        # where Jinja must be asked each time so that it reloads edited files.
        self._templates: dict[type[Component], tuple[jinja2.Template, str]] = {}
        self._globals: dict[str, Any] = {}
        self._globals_size = -1
        # The names of each template's globals (what Jinja's new_context computes per render).
        self._globals_keys: dict[jinja2.Template, frozenset[str]] = {}

    def template_for(self, cls: type[Component]) -> tuple[jinja2.Template, str]:
        found = self._templates.get(cls)
        if found is not None:
            return found
        if cls.template_source is not None:
            found = (
                self.live.env.from_string(cls.template_source),
                f"{cls.__qualname__}.template_source",
            )
        elif cls.template is None:
            raise ComponentDefinitionError(
                f"component {cls.name!r} has neither `template` nor `template_source`"
            )
        else:
            found = self.live.env.get_template(cls.template), cls.template
            if self.live.env.auto_reload:
                return found
        self._templates[cls] = found
        return found

    def _render_tagged(self, instance: Component, attributes: dict[str, str]) -> str:
        cls = type(instance)
        template, template_name = self.template_for(cls)
        frame = _RenderFrame(instance)
        features.rendering(instance)
        token = _rendering.set(frame)
        try:
            html = self._render_template(template, instance.template_context())
        finally:
            _rendering.reset(token)
        features.rendered(instance, html)
        # Children the template no longer embeds are gone.
        if instance.children:
            instance.children = {k: v for k, v in instance.children.items() if k in frame.seen}
        return tag_root(html, attributes, component=cls.name, template=template_name)

    def _render_template(self, template: jinja2.Template, variables: dict[str, Any]) -> str:
        """``template.render(variables)`` without re-merging the globals on every call.

        Jinja builds each render's context from a ChainMap of the globals, which costs more
        than rendering a small component; a plain dict of the globals, refreshed when the
        environment's globals change, gives the same names five times faster.
        """
        env = self.live.env
        env_globals = env.globals
        if len(env_globals) != self._globals_size or len(self._globals_keys) > 256:
            self._globals = dict(env_globals)
            self._globals_size = len(env_globals)
            self._globals_keys.clear()  # bounded: auto_reload makes new template objects
        keys = self._globals_keys.get(template)
        if keys is None:
            keys = self._globals_keys[template] = frozenset(template.globals)
        # What template.new_context(..., shared=True) builds, without listing the ChainMap
        # of the template's globals again on every render.
        context = env.context_class(
            env, {**self._globals, **variables}, template.name, template.blocks
        )
        context.globals_keys = keys  # type: ignore[assignment]  # only read (import with context)
        try:
            return str(env.concat(template.root_render_func(context)))
        except Exception:
            env.handle_exception()
            raise  # handle_exception always raises; this keeps type checkers informed

    def render_html(self, instance: Component) -> str:
        """Render ``instance`` to html whose single root carries the component id."""
        return self._render_tagged(instance, {c.ATTR_ID: instance.id})

    def render_page_html(self, instance: Component) -> str:
        """A component's first render: the root also carries the signed snapshot."""
        attributes = {c.ATTR_ID: instance.id, **features.root_attributes(instance)}
        html = self._render_tagged(instance, attributes)
        snapshot = self.live.snapshots.sign(
            type(instance).name, instance.id, instance.snapshot_state()
        )
        return html.replace(
            f'{c.ATTR_ID}="{instance.id}"',
            f'{c.ATTR_ID}="{instance.id}" {c.ATTR_SNAPSHOT}="{snapshot.to_attribute()}"',
            1,
        )

    def embed(self, context: jinja2.runtime.Context, name: str, props: dict[str, Any]) -> Markup:
        """The ``livepy(name, key=..., **props)`` global.

        On a page it creates, mounts and renders the component. Inside another component's
        template the child is remembered by ``key``: when the parent renders again, a child
        it already has is sent as an empty stub that the browser keeps its live copy for,
        so a parent update never re-renders or resends its unchanged children.
        With ``lazy=True`` (or ``"visible"``) it renders a placeholder instead and ``mount()``
        runs when the browser joins it (``livepy.features.lazy``).
        """
        key = props.pop("key", None)
        lazy = props.pop("lazy", False)
        bind = props.pop("bind", None)  # a parent field for the child's Modelable field
        frame = _rendering.get()
        if bind is not None and frame is None:
            raise RenderError(f"livepy({name!r}, bind=...) works only in a component's template")
        if frame is not None:
            key = f"{name}#{frame.ordinal}" if key is None else str(key)
            frame.ordinal += 1
            if key in frame.seen:
                raise RenderError(
                    f"component {type(frame.parent).name!r} embeds two children with key "
                    f"{key!r}; give each child in a loop its own key=..."
                )
            frame.seen.add(key)
            known = frame.parent.children.get(key)
            if known is not None and known[0] == name:
                _, child_id, tag = known
                track_child(frame.parent, registry.resolve(name), child_id, props, bind)
                return Markup(f'<{tag} {c.ATTR_ID}="{child_id}"></{tag}>')
        cls = registry.resolve(name)
        instance = cls()
        instance.id = new_component_id()
        if lazy:  # a placeholder now; mount() runs when the browser joins it
            parent = frame.parent if frame is not None else None
            request = context.get("request")
            html = render_placeholder(
                self, instance, props, lazy, parent=parent, bind=bind, request=request
            )
        else:
            instance.mount(**props)
            features.mounted(instance, context.get("request"))
            if frame is not None:
                track_child(frame.parent, cls, instance.id, props, bind, instance)
            html = self.render_page_html(instance)
        if frame is not None and key is not None:
            match = _ROOT_TAG.match(html)
            frame.parent.children[key] = (name, instance.id, match.group(1) if match else "div")
        return Markup(html)

    def scripts(self, context: jinja2.runtime.Context, **options: Any) -> Markup:
        """The ``livepy_scripts()`` global: the runtime module and its configuration."""
        base = _root_path(context) + self.live.path
        limits = self.live.limits
        config = {
            "ws": base + "/ws",
            "upload": base + "/upload",
            "debug": self.live.debug,
            "max_frame_bytes": limits.max_frame_bytes,
            "max_calls_per_frame": limits.max_calls_per_frame,
            "heartbeat_interval": self.live.heartbeat_interval,
            **({} if self.live.websocket else {"transport": "http"}),
            **options,
        }
        # "</" must not appear inside a <script> element.
        config_json = json.dumps(config).replace("</", "<\\/")
        return Markup(
            "<style>[lp-loading],[lp-offline],[lp-dirty]{display:none}</style>\n"
            f'<script type="application/json" id="livepy-config">{config_json}</script>\n'
            f'<script type="module" src="{base}/livepy.js"></script>'
        )
