"""Choosing the snapshot signing key: given, from the environment, or a development key.

The development key is kept in a per-user file in the temp directory, so that a
reloading dev server and restarts keep accepting the snapshots already in the browser.
A multi-worker server must be given a key: a missing one is a configuration error.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

from livepy.exceptions import ConfigurationError

__all__ = ["resolve_secret_key", "several_workers"]

logger = logging.getLogger("livepy")


def _parent_command_line() -> list[str]:
    try:
        raw = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def several_workers(environ: dict[str, str] | None = None, argv: list[str] | None = None) -> bool:
    """True when this process is one of several server workers (uvicorn or gunicorn)."""
    environ = dict(os.environ) if environ is None else environ
    try:
        if int(environ.get("WEB_CONCURRENCY", "1")) > 1:
            return True
    except ValueError:
        pass
    if "gunicorn" in environ.get("SERVER_SOFTWARE", ""):
        return True
    argv = _parent_command_line() if argv is None else argv
    for flag in ("--workers", "-w"):
        for index, arg in enumerate(argv):
            value = None
            if arg == flag and index + 1 < len(argv):
                value = argv[index + 1]
            elif arg.startswith(flag + "="):
                value = arg.split("=", 1)[1]
            if value is not None and value.isdigit() and int(value) > 1:
                return True
    return False


def _development_key() -> str:
    path = Path(tempfile.gettempdir()) / f"livepy-dev-key-{os.getuid()}"
    try:
        key = path.read_text().strip()
        if key:
            return key
    except OSError:
        pass
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
    except OSError:
        logger.warning("livepy: could not store the development key in %s", path)
    return key


def resolve_secret_key(secret_key: str | bytes | None) -> str | bytes:
    key = secret_key or os.environ.get("LIVEPY_SECRET_KEY") or None
    if key:
        return key
    if several_workers():
        raise ConfigurationError(
            "LivePy needs secret_key= (or LIVEPY_SECRET_KEY) when the server runs several "
            "workers: each worker would otherwise sign snapshots with a different key"
        )
    banner = "!" * 72
    logger.warning(
        "\n%s\n  livepy: no secret_key given; using a development key stored in %s.\n"
        "  Anyone with access to this machine can read it. Set LIVEPY_SECRET_KEY in "
        "production.\n%s",
        banner,
        tempfile.gettempdir(),
        banner,
    )
    return _development_key()
