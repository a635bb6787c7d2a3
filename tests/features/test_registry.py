"""The feature list: one visible order, every feature a documented package."""

from __future__ import annotations

import importlib
import inspect

import livepy.session
from livepy.features import FEATURES, Hook


def test_features_are_asked_in_the_documented_order() -> None:
    names = [type(feature).__module__.rsplit(".", 1)[-1] for feature in FEATURES]
    assert names == [
        "locked",
        "props",
        "computed",
        "validation",
        "uploads",
        "streams",
        "lifecycle",
        "events",
        "navigation",
        "url",
        "lazy",
    ]
    for feature, name in zip(FEATURES, names, strict=True):
        assert isinstance(feature, Hook)
        module = importlib.import_module(f"livepy.features.{name}")
        assert module.__doc__, f"livepy.features.{name} needs a docstring naming its job"


def test_the_default_hook_handles_nothing() -> None:
    assert Hook().exception(None, ValueError()) is False  # type: ignore[arg-type]


def test_the_session_reaches_lazy_components_only_through_hooks() -> None:
    source = inspect.getsource(livepy.session)
    assert "features.lazy" not in source
    assert "mount_lazy" not in source


def test_the_default_hook_sets_up_no_join() -> None:
    assert Hook().joining(None, {"$lazy": {}}) is False  # type: ignore[arg-type]
