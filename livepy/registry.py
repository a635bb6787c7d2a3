"""The name -> Component class registry that ``livepy("name")`` and joins resolve against."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from livepy.exceptions import ComponentDefinitionError, UnknownComponentError

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["register", "registered", "resolve", "snake_case"]

_components: dict[str, type[Component]] = {}


def snake_case(class_name: str) -> str:
    """``OrderStatus`` -> ``order_status``; ``HTMLTable`` -> ``html_table``."""
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()


def register(cls: type[Component]) -> None:
    name = cls.name
    existing = _components.get(name)
    if existing is not None and existing is not cls:
        same_origin = (existing.__module__, existing.__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        if not same_origin:  # a re-import (reload, tests) replaces; a second class is a mistake
            raise ComponentDefinitionError(
                f"component name {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}; give "
                f"{cls.__module__}.{cls.__qualname__} another `name = ...`"
            )
    _components[name] = cls


def resolve(name: str) -> type[Component]:
    try:
        return _components[name]
    except KeyError:
        known = ", ".join(sorted(_components)) or "none"
        raise UnknownComponentError(
            f"no component is registered as {name!r} (registered: {known}); "
            "define a Component subclass with that name or import its module"
        ) from None


def registered() -> dict[str, type[Component]]:
    return dict(_components)
