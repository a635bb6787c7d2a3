"""Validation: rules declared on fields, ``self.validate()``, an ``errors`` bag in templates.

Rules sit in a field's annotation (``email: Annotated[str, Required(), Email()] = ""``),
or in a ``Form`` dataclass held in a field. ``self.validate()`` checks them all (or the
named fields) and raises ``ValidationError``; raised out of an action, it is handled
here: the change stands, the render shows the messages, and no error frame is sent.
A model update of a field that has rules validates that field at once (real-time
validation for ``lp-model.live``), without stopping the update. Messages are customized
per rule (``Required(message=...)``) or per component (``messages = {"email.required":
"...", "required": "..."}``).
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from livepy.exceptions import ComponentDefinitionError
from livepy.features.hooks import Hook
from livepy.features.validation.errors import ErrorBag, ValidationError
from livepy.features.validation.form import Form
from livepy.features.validation.rules import (
    Check,
    Email,
    Length,
    Max,
    Min,
    Pattern,
    Required,
    Rule,
    is_empty,
)

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "ERRORS_KEY",
    "Check",
    "Email",
    "ErrorBag",
    "Form",
    "Length",
    "Max",
    "Min",
    "Pattern",
    "Required",
    "Rule",
    "ValidationError",
    "ValidationHook",
    "errors_of",
    "validate",
]

ERRORS_KEY = "$errors"  # where a snapshot's state keeps the error bag
_ERRORS = "$errors"  # instance.__dict__ keys: never state
_ERRORS_BEFORE = "$errors_before"  # the bag as the request found it, for a rollback
_NO_MESSAGES: dict[str, list[str]] = {}  # (never changed: an ErrorBag copies what it gets)
# path ("email", "form.email") -> its rules, per component class
_RULES: dict[type, dict[str, tuple[Rule, ...]]] = {}


def errors_of(instance: object) -> ErrorBag:
    """The component's error bag (created empty on first use)."""
    bag: ErrorBag | None = instance.__dict__.get(_ERRORS)
    if bag is None:  # (not setdefault: that would build a bag on every call)
        bag = instance.__dict__[_ERRORS] = ErrorBag()
    return bag


def _rules_in(metadata: tuple[Any, ...]) -> tuple[Rule, ...]:
    return tuple(item for item in metadata if isinstance(item, Rule))


def _collect(cls: type[Component]) -> dict[str, tuple[Rule, ...]]:
    found: dict[str, tuple[Rule, ...]] = {}
    for name, state_field in cls.__state_fields__.items():
        rules = _rules_in(state_field.metadata)
        if rules:
            found[name] = rules
        annotation = state_field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Form):
            hints = typing.get_type_hints(annotation, include_extras=True)
            for sub, hint in hints.items():
                if get_origin(hint) is Annotated:
                    sub_rules = _rules_in(get_args(hint)[1:])
                    if sub_rules:
                        found[f"{name}.{sub}"] = sub_rules
    return found


def _value(instance: object, path: str) -> Any:
    value: Any = instance
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def _message(instance: object, path: str, rule: Rule) -> str:
    custom: dict[str, str] = getattr(type(instance), "messages", None) or {}
    template = (
        custom.get(f"{path}.{rule.code}")
        or custom.get(rule.code)
        or rule.message
        or rule.template()
    )
    labels: dict[str, str] = getattr(type(instance), "labels", None) or {}
    label = labels.get(path) or path.rsplit(".", 1)[-1].replace("_", " ")
    return template.format(field=label, **rule.params())


def _check(instance: object, paths: list[str]) -> dict[str, list[str]]:
    rules_by_path = _RULES.get(type(instance), {})
    found: dict[str, list[str]] = {}
    for path in paths:
        value = _value(instance, path)
        for rule in rules_by_path[path]:
            if rule.skip_empty and is_empty(value):
                continue
            try:
                passed = rule.passes(value)
            except (TypeError, ValueError):
                passed = False
            if not passed:
                found.setdefault(path, []).append(_message(instance, path, rule))
    return found


def _paths(instance: object, fields: tuple[str, ...]) -> list[str]:
    known = _RULES.get(type(instance), {})
    if not fields:
        return list(known)
    paths = []
    for name in fields:
        matched = [p for p in known if p == name or p.startswith(name + ".")]
        if not matched:
            raise ValueError(f"{type(instance).__name__} has no rules for {name!r}")
        paths += matched
    return paths


def validate(instance: object, *fields: str) -> None:
    """Check the rules of ``fields`` (all by default); raise ValidationError on failures.

    The error bag forgets the checked fields' old messages and keeps the new ones."""
    paths = _paths(instance, fields)
    found = _check(instance, paths)
    errors_of(instance).replace(paths, found)
    if found:
        raise ValidationError(found)


class ValidationHook(Hook):
    render_neutral = frozenset({_ERRORS, _ERRORS_BEFORE})  # the messages are in the state

    def define(self, cls: type[Component]) -> None:
        rules = _collect(cls)
        messages = getattr(cls, "messages", None)
        if messages is not None and not isinstance(messages, dict):
            raise ComponentDefinitionError(f"{cls.__qualname__}.messages must be a dict")
        _RULES[cls] = rules

    # (begin and dump_extra run on every component a broadcast reaches: they read the bag
    # without errors_of, which would build an empty one)
    def begin(self, instance: Component) -> None:
        bag = instance.__dict__.get(_ERRORS)
        before = _NO_MESSAGES if bag is None or not bag.messages else dict(bag.messages)
        instance.__dict__[_ERRORS_BEFORE] = before

    def dump_extra(self, instance: Component, state: dict[str, Any]) -> None:
        # The bag rides in the snapshot (only while it holds messages), so that a rejoin
        # after a reconnect, or a stateless HTTP request, still knows the other fields' errors.
        bag = instance.__dict__.get(_ERRORS)
        if bag is not None and bag.messages:
            state[ERRORS_KEY] = {path: list(messages) for path, messages in bag.messages.items()}

    def load_extra(self, instance: Component, state: dict[str, Any]) -> None:
        saved = state.get(ERRORS_KEY)
        messages = {
            str(path): [str(m) for m in found]
            for path, found in (saved.items() if isinstance(saved, dict) else ())
            if isinstance(found, list)
        }
        if messages:
            instance.__dict__[_ERRORS] = ErrorBag(messages)
        else:  # no bag until one is needed: most components never hold a message
            instance.__dict__.pop(_ERRORS, None)

    def rollback(self, instance: Component) -> None:
        before = instance.__dict__.get(_ERRORS_BEFORE)
        if before is not None:
            instance.__dict__[_ERRORS] = ErrorBag(before)

    def updated(self, instance: Component, name: str, value: Any) -> None:
        known = _RULES.get(type(instance), {})
        paths = [p for p in known if p == name or p.startswith(name + ".")]
        if paths:
            errors_of(instance).replace(paths, _check(instance, paths))

    def context(self, instance: Component, variables: dict[str, Any]) -> None:
        bag = instance.__dict__.get(_ERRORS)  # (none kept for a render that only reads it)
        variables.setdefault("errors", ErrorBag() if bag is None else bag)

    def exception(self, instance: Component, exc: Exception) -> bool:
        if not isinstance(exc, ValidationError):
            return False
        # validate() already recorded these; a ValidationError raised by hand is recorded here.
        errors_of(instance).replace(list(exc.errors), exc.errors)
        return True
