"""The typed parameters of a method that outside input fills: ``@action`` arguments from the
browser, ``@on`` listener parameters from an event's params.

Both are read once, when the component class is defined: every parameter needs an annotation
the conversion supports, so that input is converted to it, never trusted as it comes.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Collection
from typing import Any

from livepy.convert import check_supported
from livepy.exceptions import ComponentDefinitionError

__all__ = ["MISSING", "typed_parameters"]

MISSING: Any = object()  # the default of a parameter that has none


def typed_parameters(
    fn: Callable[..., Any],
    where: str,
    *,
    refused_kinds: Collection[Any],
    refusal: Callable[[str], str],
    filled_from: str,
) -> tuple[tuple[str, Any, Any], ...]:
    """``(name, annotation, default or MISSING)`` for each parameter after ``self``.

    Raises ComponentDefinitionError for a parameter of a ``refused_kinds`` kind (with the
    message ``refusal(name)``), without an annotation, or with an unsupported one.
    """
    try:
        hints = typing.get_type_hints(fn)
    except NameError as exc:
        raise ComponentDefinitionError(f"{where}: cannot resolve an annotation ({exc})") from None
    params = []
    for index, param in enumerate(inspect.signature(fn).parameters.values()):
        if index == 0:
            continue  # self
        if param.kind in refused_kinds:
            raise ComponentDefinitionError(f"{where}: {refusal(param.name)}")
        if param.name not in hints:
            raise ComponentDefinitionError(
                f"{where}: parameter {param.name!r} needs a type annotation, "
                f"so that {filled_from} can be converted to it"
            )
        try:
            check_supported(hints[param.name], f"{where}({param.name})")
        except TypeError as exc:
            raise ComponentDefinitionError(str(exc)) from None
        default = MISSING if param.default is param.empty else param.default
        params.append((param.name, hints[param.name], default))
    return tuple(params)
