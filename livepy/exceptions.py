"""The exception hierarchy. Every error that reaches a client carries a wire code."""

from __future__ import annotations

from livepy.protocol.errors import LivepyError, ProtocolError

__all__ = [
    "ComponentDefinitionError",
    "ConfigurationError",
    "LivepyError",
    "ProtocolError",
    "RenderError",
    "UnknownComponentError",
]


class ConfigurationError(LivepyError):
    """LivePy(...) or a component was set up wrongly."""


class ComponentDefinitionError(ConfigurationError, TypeError):
    """A Component subclass declares something livepy cannot support (names the attribute)."""


class UnknownComponentError(LivepyError, LookupError):
    """No component is registered under the requested name."""


class RenderError(LivepyError):
    """A component's template did not render to exactly one root element."""
