"""ProtocolError: a refusal that becomes an error frame with a wire code."""

from __future__ import annotations

__all__ = ["LivepyError", "ProtocolError"]


class LivepyError(Exception):
    """Base class of livepy's own errors."""


class ProtocolError(LivepyError):
    """Bad input from a client. ``code`` is one of the ``ERR_*`` wire constants.

    ``cid`` and ``seq`` name the component and call the error refers to, when known.
    """

    def __init__(
        self, code: str, message: str, *, cid: str | None = None, seq: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cid = cid
        self.seq = seq

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r}, cid={self.cid!r}, seq={self.seq!r})"
