"""livepy: server-driven reactive UI components for Python, with real-time broadcasting.

Only the names in ``__all__`` are public API.
"""

from livepy.app import Limits, LivePy
from livepy.broadcasting import BroadcastEvent
from livepy.component import Component, action, on, on_notification, on_presence
from livepy.exceptions import (
    ComponentDefinitionError,
    ConfigurationError,
    LivepyError,
    ProtocolError,
    RenderError,
    UnknownComponentError,
)
from livepy.features.computed import computed
from livepy.features.locked import Locked
from livepy.features.props import Modelable, Reactive
from livepy.features.uploads import UploadedFile, UploadSettings
from livepy.features.url import Url, url

__version__ = "0.1.0"

__all__ = [
    "BroadcastEvent",
    "Component",
    "ComponentDefinitionError",
    "ConfigurationError",
    "Limits",
    "LivePy",
    "LivepyError",
    "Locked",
    "Modelable",
    "ProtocolError",
    "Reactive",
    "RenderError",
    "UnknownComponentError",
    "UploadSettings",
    "UploadedFile",
    "Url",
    "__version__",
    "action",
    "computed",
    "on",
    "on_notification",
    "on_presence",
    "url",
]
