"""Channel authorization: ``@live.channel("orders.{order_id}")`` callbacks and their lookup.

A callback gets the user and the placeholders, converted to their annotated types, and
answers ``True``/``False`` for private channels or the member info (a dict with an ``id``)
for presence channels. It may be sync or async. No callback means refused.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livepy.channels.names import ChannelKind, kind_of, without_prefix
from livepy.convert import ConversionError, convert

__all__ = ["Authorization", "ChannelAuthorizer"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Authorization:
    allowed: bool
    member: dict[str, Any] | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: str
    regex: re.Pattern[str]
    callback: Callable[..., Any]
    hints: dict[str, Any]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    parts = []
    last = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^.]+)")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("^" + "".join(parts) + "$")


class ChannelAuthorizer:
    def __init__(self) -> None:
        self._rules: list[_Rule] = []

    def register(self, pattern: str, callback: Callable[..., Any]) -> None:
        try:
            hints = typing.get_type_hints(callback)
        except NameError:
            hints = {}
        self._rules.append(_Rule(pattern, compile_pattern(pattern), callback, hints))

    async def authorize(self, user: Any, channel: str) -> Authorization:
        kind = kind_of(channel)
        if kind is ChannelKind.PUBLIC:
            return Authorization(True)
        name = without_prefix(channel)
        for rule in self._rules:
            match = rule.regex.match(name)
            if match is None:
                continue
            try:
                params = {
                    key: convert(value, rule.hints.get(key, str), key)
                    for key, value in match.groupdict().items()
                }
            except ConversionError as exc:
                return Authorization(False, reason=f"channel {channel!r}: {exc}")
            result = rule.callback(user, **params)
            if inspect.isawaitable(result):
                result = await result
            if kind is ChannelKind.PRESENCE:
                if not result:
                    return Authorization(False, reason=f"not a member of {channel!r}")
                if not isinstance(result, dict) or "id" not in result:
                    raise TypeError(
                        f"the callback for {rule.pattern!r} must return a dict with an 'id' "
                        "for presence channels"
                    )
                return Authorization(True, member=result)
            if result is True:
                return Authorization(True)
            return Authorization(False, reason=f"not allowed on {channel!r}")
        return Authorization(False, reason=f"no @live.channel pattern matches {channel!r}")
