"""Transports: thin I/O pumps between sockets and live sessions."""

from livepy.transport.origin import origin_allowed
from livepy.transport.websocket import websocket_endpoint

__all__ = ["origin_allowed", "websocket_endpoint"]
