"""The error bag a failed validation leaves for the template, and ValidationError."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["ErrorBag", "ValidationError"]


class ErrorBag:
    """Messages by field path (``"email"``, ``"form.email"``); ``errors`` in templates."""

    def __init__(self, messages: dict[str, list[str]] | None = None) -> None:
        self.messages: dict[str, list[str]] = {k: list(v) for k, v in (messages or {}).items()}

    def has(self, field: str | None = None) -> bool:
        """Any error at all, or any for ``field``."""
        if field is None:
            return bool(self.messages)
        return bool(self.messages.get(field))

    def first(self, field: str) -> str:
        """The first message for ``field``, or "" (so templates can print it as is)."""
        messages = self.messages.get(field)
        return messages[0] if messages else ""

    def get(self, field: str) -> list[str]:
        return list(self.messages.get(field, ()))

    def all(self) -> list[str]:
        return [message for messages in self.messages.values() for message in messages]

    def fields(self) -> list[str]:
        return list(self.messages)

    def add(self, field: str, message: str) -> None:
        """Record a message of your own: ``errors_of(self).add("password", "Wrong password.")``."""
        self.messages.setdefault(field, []).append(message)

    def replace(self, paths: list[str], found: dict[str, list[str]]) -> None:
        """Forget what was known about ``paths``, then record what was ``found``."""
        for path in paths:
            self.messages.pop(path, None)
        self.messages.update(found)

    def clear(self) -> None:
        self.messages.clear()

    def __bool__(self) -> bool:
        return bool(self.messages)

    def __len__(self) -> int:
        return len(self.messages)

    def __contains__(self, field: object) -> bool:
        return field in self.messages

    def __iter__(self) -> Iterator[str]:
        return iter(self.messages)

    def __repr__(self) -> str:
        return f"ErrorBag({self.messages!r})"


class ValidationError(Exception):
    """``validate()`` found errors. Raised out of an action, it is handled: the render
    shows the messages, no error frame is sent, and the state is kept as it was."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
