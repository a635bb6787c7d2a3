"""The Jinja environment: template loading, the page globals and component rendering."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from livepy import registry
from livepy.exceptions import ComponentDefinitionError
from livepy.protocol import constants as c
from livepy.render.tagging import tag_root

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.component import Component

__all__ = ["ComponentRenderer", "build_environment", "new_component_id"]


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
    return env


def _root_path(context: jinja2.runtime.Context) -> str:
    request = context.get("request")
    scope = getattr(request, "scope", None) or {}
    return str(scope.get("root_path", "")).rstrip("/")


class ComponentRenderer:
    """Renders component instances to tagged HTML, and the page-level globals."""

    def __init__(self, live: LivePy) -> None:
        self.live = live
        self._inline: dict[type[Component], jinja2.Template] = {}

    def template_for(self, cls: type[Component]) -> tuple[jinja2.Template, str]:
        if cls.template_source is not None:
            template = self._inline.get(cls)
            if template is None:
                template = self.live.env.from_string(cls.template_source)
                self._inline[cls] = template
            return template, f"{cls.__qualname__}.template_source"
        if cls.template is None:
            raise ComponentDefinitionError(
                f"component {cls.name!r} has neither `template` nor `template_source`"
            )
        return self.live.env.get_template(cls.template), cls.template

    def render_html(self, instance: Component) -> str:
        """Render ``instance`` to html whose single root carries the component id."""
        cls = type(instance)
        template, template_name = self.template_for(cls)
        html = template.render(instance.template_context())
        return tag_root(html, {c.ATTR_ID: instance.id}, component=cls.name, template=template_name)

    def render_page_html(self, instance: Component) -> str:
        """First render, for a page: the root also carries the signed snapshot."""
        cls = type(instance)
        template, template_name = self.template_for(cls)
        html = template.render(instance.template_context())
        snapshot = self.live.snapshots.sign(cls.name, instance.id, instance.dump_state())
        attributes = {c.ATTR_ID: instance.id, c.ATTR_SNAPSHOT: snapshot.to_attribute()}
        return tag_root(html, attributes, component=cls.name, template=template_name)

    def embed(self, context: jinja2.runtime.Context, name: str, props: dict[str, Any]) -> Markup:
        """The ``livepy(name, **props)`` global: create, mount and render a component."""
        cls = registry.resolve(name)
        instance = cls()
        instance.id = new_component_id()
        instance.mount(**props)
        return Markup(self.render_page_html(instance))

    def scripts(self, context: jinja2.runtime.Context, **options: Any) -> Markup:
        """The ``livepy_scripts()`` global: the runtime module and its configuration."""
        base = _root_path(context) + self.live.path
        limits = self.live.limits
        config = {
            "ws": base + "/ws",
            "debug": self.live.debug,
            "max_frame_bytes": limits.max_frame_bytes,
            "max_calls_per_frame": limits.max_calls_per_frame,
            **options,
        }
        # "</" must not appear inside a <script> element.
        config_json = json.dumps(config).replace("</", "<\\/")
        return Markup(
            "<style>[lp-loading],[lp-offline]{display:none}</style>\n"
            f'<script type="application/json" id="livepy-config">{config_json}</script>\n'
            f'<script type="module" src="{base}/livepy.js"></script>'
        )
