"""Validation rules, declared in a field's annotation: ``Annotated[str, Required(), Email()]``.

Each rule checks one value and names its failure with a message template. Templates
use ``{field}`` (the field's label) and the rule's own parameters (``{min}``, ``{max}``).
Every rule but ``Required`` passes an empty value (None, "", [] or {}), so an optional
field is checked only once it is filled in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Check", "Email", "Length", "Max", "Min", "Pattern", "Required", "Rule", "is_empty"]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class Rule:
    """A constraint on one value. ``code`` names it in custom message keys."""

    code: str = "rule"
    default_message: str = "The {field} is invalid."
    skip_empty: ClassVar[bool] = True

    def __init__(self, *, message: str | None = None) -> None:
        self.message = message

    def passes(self, value: Any) -> bool:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}

    def template(self) -> str:
        """The message template, before any custom message is considered."""
        return self.default_message

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({params})"


class Required(Rule):
    code = "required"
    default_message = "The {field} field is required."
    skip_empty = False

    def passes(self, value: Any) -> bool:
        if isinstance(value, str):
            return value.strip() != ""
        return not is_empty(value)


class Min(Rule):
    """A number at least ``min``."""

    code = "min"
    default_message = "The {field} must be at least {min}."

    def __init__(self, min: float, *, message: str | None = None) -> None:
        super().__init__(message=message)
        self.min = min

    def passes(self, value: Any) -> bool:
        return isinstance(value, int | float) and value >= self.min

    def params(self) -> dict[str, Any]:
        return {"min": self.min}


class Max(Rule):
    """A number at most ``max``."""

    code = "max"
    default_message = "The {field} must be at most {max}."

    def __init__(self, max: float, *, message: str | None = None) -> None:
        super().__init__(message=message)
        self.max = max

    def passes(self, value: Any) -> bool:
        return isinstance(value, int | float) and value <= self.max

    def params(self) -> dict[str, Any]:
        return {"max": self.max}


class Length(Rule):
    """A string (in characters) or list whose length is within ``min`` .. ``max``."""

    code = "length"

    def __init__(
        self, min: int | None = None, max: int | None = None, *, message: str | None = None
    ) -> None:
        if min is None and max is None:
            raise ValueError("Length needs min, max or both")
        super().__init__(message=message)
        self.min = min
        self.max = max

    def template(self) -> str:
        if self.max is None:
            return "The {field} must be at least {min} characters."
        if self.min is None:
            return "The {field} must be at most {max} characters."
        return "The {field} must be between {min} and {max} characters."

    def passes(self, value: Any) -> bool:
        size = len(value)
        return (self.min is None or size >= self.min) and (self.max is None or size <= self.max)

    def params(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max}


class Pattern(Rule):
    """A string that matches ``regex`` as a whole."""

    code = "pattern"
    default_message = "The {field} format is invalid."

    def __init__(self, regex: str, *, message: str | None = None) -> None:
        super().__init__(message=message)
        self.regex = re.compile(regex)

    def passes(self, value: Any) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None

    def params(self) -> dict[str, Any]:
        return {"pattern": self.regex.pattern}


# Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is for a
# confirmation mail to prove, not a regular expression.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class Email(Rule):
    code = "email"
    default_message = "The {field} must be a valid email address."

    def passes(self, value: Any) -> bool:
        return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


class Check(Rule):
    """A custom rule: ``Check(lambda v: v % 2 == 0, "The {field} must be even.")``."""

    code = "check"

    def __init__(self, test: Callable[[Any], bool], message: str, *, code: str = "check") -> None:
        super().__init__(message=message)
        self.test = test
        self.code = code

    def passes(self, value: Any) -> bool:
        return bool(self.test(value))
