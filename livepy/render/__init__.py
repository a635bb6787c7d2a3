"""Rendering: the Jinja environment, the ``livepy()`` / ``livepy_scripts()`` globals, tagging."""

from livepy.render.environment import ComponentRenderer, build_environment, new_component_id
from livepy.render.tagging import tag_root

__all__ = ["ComponentRenderer", "build_environment", "new_component_id", "tag_root"]
