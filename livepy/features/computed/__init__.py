"""Computed properties: ``@computed`` methods read like attributes and are cached.

A computed value is worked out at most once per request (a CALL, a pushed event, a
join): the cache is emptied when a request begins and again before its render, so an
action that changes state never renders a stale value. ``@computed(persist=True)``
keeps the value across requests, in the component instance the connection holds,
until ``self.forget("name")``. Every computed is a template variable under its name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from livepy.features.hooks import Hook

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["ComputedHook", "computed", "forget"]

R = TypeVar("R")
# instance.__dict__ keys: plain data, never state (the names are not identifiers).
_REQUEST = "$computed"
_PERSISTED = "$computed_persisted"


class Computed(Generic[R]):
    """The descriptor ``@computed`` makes of a method."""

    __livepy_computed__ = True  # lets the core name the clash with a state field

    def __init__(self, fn: Callable[[Any], R], persist: bool) -> None:
        self.fn = fn
        self.persist = persist
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Computed[R]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> R: ...
    def __get__(self, instance: object | None, owner: type) -> Computed[R] | R:
        if instance is None:
            return self
        cache: dict[str, Any] = instance.__dict__.setdefault(
            _PERSISTED if self.persist else _REQUEST, {}
        )
        if self.name not in cache:
            cache[self.name] = self.fn(instance)
        value: R = cache[self.name]
        return value

    def __set__(self, instance: object, value: Any) -> None:
        raise AttributeError(f"{self.name} is computed: it cannot be assigned")


@overload
def computed(fn: Callable[[Any], R], /) -> Computed[R]: ...
@overload
def computed(*, persist: bool = False) -> Callable[[Callable[[Any], R]], Computed[R]]: ...
def computed(
    fn: Callable[[Any], R] | None = None, /, *, persist: bool = False
) -> Computed[R] | Callable[[Callable[[Any], R]], Computed[R]]:
    """``@computed`` or ``@computed(persist=True)`` on a method taking only ``self``."""
    if fn is not None:
        return Computed(fn, persist)
    return lambda f: Computed(f, persist)


def forget(instance: object, *names: str) -> None:
    """Drop cached values: the named computed properties, or every one of them."""
    for key in (_REQUEST, _PERSISTED):
        cache = instance.__dict__.get(key)
        if cache is None:
            continue
        if names:
            for name in names:
                cache.pop(name, None)
        else:
            cache.clear()


# Filled when each component class is defined, so a render never scans the class.
_NAMES: dict[type, tuple[str, ...]] = {}


def computed_names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = tuple(n for n in dir(cls) if isinstance(getattr(cls, n, None), Computed))
        _NAMES[cls] = names
    return names


class ComputedHook(Hook):
    transient = frozenset({_REQUEST})  # a request's computed values: the next computes afresh

    def define(self, cls: type[Component]) -> None:
        # (a state field of the same name is refused by the core, naming the clash)
        computed_names(cls)

    def rollback(self, instance: Component) -> None:
        instance.__dict__.pop(_REQUEST, None)

    def rendering(self, instance: Component) -> None:
        instance.__dict__.pop(_REQUEST, None)

    def context(self, instance: Component, variables: dict[str, Any]) -> None:
        for name in computed_names(type(instance)):
            variables.setdefault(name, getattr(instance, name))
