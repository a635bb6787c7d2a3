"""Props a parent keeps in step with its children: reactive props and modelable props.

By default a child's props only feed its ``mount()``. Two opt-ins, declared on the child:

- ``title: Reactive[str] = ""``: whenever the parent renders again and passes a different
  ``title=``, the child takes the new value and re-renders in the same request. Only the
  parent changes it: a browser update of a reactive prop is refused (``locked_field``).
- ``value: Modelable[str] = ""`` (one per component): the parent binds it to one of its own
  fields with ``livepy("todo_input", key="new", bind="draft")``. The child starts with the
  parent's value; when the child changes it (an action, or ``lp-model`` in the child), the
  parent's field is set and the parent re-renders; when the parent changes its field, the
  child follows. ``bind`` may reach into the parent's state: ``bind="cards.3.title"``.

How: each render of a parent records, per embedded child, the reactive props it passed and
its ``bind`` path (``track_child``). After a request changed a component, the session asks
``follow_ups`` which parent or children on the same connection now disagree, and applies
those changes in the same request, as pushes. The values travel only server side; the
browser never sends them and cannot forge them.
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

from livepy.convert import ConversionError, convert, dump, unwrap
from livepy.exceptions import ComponentDefinitionError, RenderError
from livepy.features.hooks import Hook
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "MODELABLE",
    "REACTIVE",
    "Modelable",
    "PropsHook",
    "Reactive",
    "bound_wire",
    "follow_ups",
    "is_bound",
    "modelable_field",
    "reactive_fields",
    "track_child",
]

logger = logging.getLogger("livepy.props")

T = TypeVar("T")


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REACTIVE = _Marker("REACTIVE")
MODELABLE = _Marker("MODELABLE")

# ``Reactive[str]`` is ``Annotated[str, REACTIVE]``: plain ``str`` to a type checker.
Reactive = Annotated[T, REACTIVE]
Modelable = Annotated[T, MODELABLE]

# instance.__dict__ key (never state): child id -> (reactive props passed, bind path or None)
_CHILDREN = "$child_props"
_REACTIVE: dict[type, frozenset[str]] = {}
_MODELABLE: dict[type, str] = {}

Change = Callable[["Component"], Awaitable[None]]


def reactive_fields(cls: type[Component]) -> frozenset[str]:
    return _REACTIVE.get(cls, frozenset())


def modelable_field(cls: type[Component]) -> str | None:
    return _MODELABLE.get(cls)


def _records(parent: Component) -> dict[str, tuple[dict[str, Any], str | None]]:
    records: dict[str, tuple[dict[str, Any], str | None]] = parent.__dict__.setdefault(
        _CHILDREN, {}
    )
    return records


# -- paths into a parent's state ("draft", "form.email", "cards.3.title") ---------------------


def _step(container: Any, annotation: Any, part: str, where: str) -> tuple[Any, Any]:
    """The item ``part`` names in ``container`` and its annotation."""
    annotation = unwrap(annotation)
    if get_origin(annotation) is list and isinstance(container, list):
        if not part.isdigit() or int(part) >= len(container):
            raise RenderError(f"bind={where!r}: no item {part!r} in the list")
        return container[int(part)], get_args(annotation)[0]
    if get_origin(annotation) is dict and isinstance(container, dict):
        if part not in container:
            raise RenderError(f"bind={where!r}: no key {part!r}")
        return container[part], get_args(annotation)[1]
    if dataclasses.is_dataclass(annotation) and not part.startswith("_"):
        hints = typing.get_type_hints(annotation)
        if part in hints:
            return getattr(container, part), hints[part]
    raise RenderError(f"bind={where!r}: cannot reach {part!r}")


def _resolve(parent: Component, path: str) -> tuple[Any, str, Any]:
    """The object holding the value ``path`` names, the last part, and the value's type."""
    head, *rest = path.split(".")
    state_field = type(parent).__state_fields__.get(head)
    if state_field is None:
        raise RenderError(f"bind={path!r}: {type(parent).__name__} has no state field {head!r}")
    holder: Any = parent
    key, annotation = head, state_field.annotation
    for part in rest:
        value = _get(holder, key)
        _, inner = _step(value, annotation, part, path)  # checks that ``part`` exists
        holder, key, annotation = value, part, inner
    return holder, key, annotation


def _get(holder: Any, key: str) -> Any:
    if isinstance(holder, list):
        return holder[int(key)]
    if isinstance(holder, dict):
        return holder[key]
    return getattr(holder, key)


def _set(holder: Any, key: str, value: Any) -> None:
    if isinstance(holder, list):
        holder[int(key)] = value
    elif isinstance(holder, dict):
        holder[key] = value
    else:
        setattr(holder, key, value)


def _wire(value: Any, annotation: Any, where: str) -> Any:
    try:
        return dump(value, annotation, where)
    except TypeError as exc:
        raise ConversionError(str(exc)) from None


# -- the render side ---------------------------------------------------------------------------


def track_child(
    parent: Component,
    child_cls: type[Component],
    child_id: str,
    props: Mapping[str, Any],
    bind: str | None,
    new_child: Component | None = None,
) -> None:
    """Called by ``livepy()`` for each child a parent's render embeds: remember the reactive
    props and the binding; a ``new_child`` also takes the bound value from the parent."""
    reactive = {k: v for k, v in props.items() if k in reactive_fields(child_cls)}
    if bind is not None:
        field = modelable_field(child_cls)
        if field is None:
            raise RenderError(
                f"livepy({child_cls.name!r}, bind={bind!r}): {child_cls.__name__} has no "
                "Modelable[...] field to bind"
            )
        if new_child is not None:
            annotation_in_child = child_cls.__state_fields__[field].annotation
            wire = bound_wire(parent, child_cls, bind)[field]
            setattr(new_child, field, convert(wire, annotation_in_child, field))
    if reactive or bind is not None:
        _records(parent)[child_id] = (reactive, bind)


def bound_wire(parent: Component, child_cls: type[Component], bind: str) -> dict[str, Any]:
    """``{child's Modelable field: the parent's value at bind, in wire form}``; a lazy child
    carries it in its placeholder and takes it once mounted (features.lazy)."""
    field = modelable_field(child_cls)
    if field is None:
        raise RenderError(
            f"livepy({child_cls.name!r}, bind={bind!r}): {child_cls.__name__} has no "
            "Modelable[...] field to bind"
        )
    holder, key, annotation = _resolve(parent, bind)
    return {field: _wire(_get(holder, key), annotation, bind)}


def _reactive_updates(
    child: Component, props: dict[str, Any], bind_value: tuple[str, Any, Any] | None
) -> dict[str, Any]:
    """The fields of ``child`` whose value differs from what its parent passes now."""
    fields = type(child).__state_fields__
    updates: dict[str, Any] = {}
    wanted = [(name, value, fields[name].annotation) for name, value in props.items()]
    if bind_value is not None:
        wanted.append(bind_value)
    for name, value, source_annotation in wanted:
        annotation = fields[name].annotation
        where = f"{type(child).__name__}.{name}"
        new = convert(_wire(value, source_annotation, where), annotation, where)
        if _wire(new, annotation, where) != _wire(getattr(child, name, None), annotation, where):
            updates[name] = new
    return updates


def is_bound(instance: Component) -> bool:
    """Whether ``instance`` passes props to children or has a field a parent may bind."""
    return bool(instance.__dict__.get(_CHILDREN)) or type(instance) in _MODELABLE


def follow_ups(source: Component, others: Mapping[str, Component]) -> list[tuple[str, Change]]:
    """What ``source``'s latest change means for the components it is bound to: a list of
    (component id, change to apply to it). ``others``: the components of the connection."""
    found: list[tuple[str, Change]] = []
    # Parent -> children: reactive props and bound values the latest render passed.
    for child_id, (props, bind) in _records(source).items():
        child = others.get(child_id)
        if child is None:
            continue
        bind_value = None
        try:
            if bind is not None:
                field = modelable_field(type(child))
                if field is not None:
                    holder, key, annotation = _resolve(source, bind)
                    bind_value = (field, _get(holder, key), annotation)
            updates = _reactive_updates(child, props, bind_value)
        except (RenderError, ConversionError) as exc:
            logger.warning("event=prop_not_passed child=%s error=%s", child_id, exc)
            continue
        if updates:
            found.append((child_id, _assign(updates)))
    # Child -> parent: a modelable value the parent binds.
    field = modelable_field(type(source))
    if field is not None:
        for parent in others.values():
            record = _records(parent).get(source.id) if parent is not source else None
            if record is None or record[1] is None:
                continue
            path = record[1]
            try:
                holder, key, annotation = _resolve(parent, path)
                child_annotation = type(source).__state_fields__[field].annotation
                wire = _wire(getattr(source, field), child_annotation, field)
                differs = wire != _wire(_get(holder, key), annotation, path)
            except (RenderError, ConversionError) as exc:
                logger.warning("event=bind_not_updated parent=%s error=%s", parent.id, exc)
                continue
            if differs:
                found.append((parent.id, _assign_path(path, wire)))
    return found


def _assign(updates: dict[str, Any]) -> Change:
    async def apply(instance: Component) -> None:
        for name, value in updates.items():
            setattr(instance, name, value)

    return apply


def _assign_path(path: str, wire: Any) -> Change:
    async def apply(instance: Component) -> None:
        holder, key, annotation = _resolve(instance, path)
        _set(holder, key, convert(wire, annotation, path))

    return apply


class PropsHook(Hook):
    # what the last render passed to its children: written by a render, never read by one
    render_neutral = frozenset({_CHILDREN})

    def define(self, cls: type[Component]) -> None:
        reactive, modelable = set(), []
        for name, state_field in cls.__state_fields__.items():
            marks = state_field.metadata
            if any(item is REACTIVE for item in marks):
                reactive.add(name)
            if any(item is MODELABLE for item in marks):
                modelable.append(name)
        if len(modelable) > 1:
            raise ComponentDefinitionError(
                f"{cls.__qualname__}: only one field can be Modelable, not {', '.join(modelable)}"
            )
        if modelable and modelable[0] in reactive:
            raise ComponentDefinitionError(
                f"{cls.__qualname__}.{modelable[0]}: a field is Reactive or Modelable, not both"
            )
        _REACTIVE[cls] = frozenset(reactive)
        if modelable:
            _MODELABLE[cls] = modelable[0]

    def guard_update(self, instance: Component, name: str) -> None:
        head = name.partition(".")[0]
        if head in reactive_fields(type(instance)):
            raise ProtocolError(
                c.ERR_LOCKED_FIELD,
                f"{type(instance).__name__}.{head} is a reactive prop: only its parent changes it",
            )

    def rendering(self, instance: Component) -> None:
        # This render records afresh which children it embeds, with which props.
        instance.__dict__[_CHILDREN] = {}
