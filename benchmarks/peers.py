"""Peer frameworks for the benchmarks: pyview-web and django-unicorn counters in their own venvs.

Usage::

    .venv/bin/python benchmarks/peers.py setup    # create/refresh benchmarks/.peers/* (idempotent)
    .venv/bin/python benchmarks/peers.py check    # start each peer, click once, stop it

Each peer gets a venv under ``benchmarks/.peers/<name>`` (git-ignored), installed with pip from
``benchmarks/apps/<name>_counter/requirements.txt``. A venv is rebuilt only when that file
changes (its hash is kept in the venv). The apps are copies of the research apps in
``shared/peers/``; the benchmarks start them with ``benchmarks/_serve.py``, so every server runs
the same uvicorn settings.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from _common import APPS, BENCH, Server, UnicornClient, deadline, phx_page

PEERS_DIR = BENCH / ".peers"
PIP_TIMEOUT = 900


@dataclass(frozen=True)
class Peer:
    name: str
    app_dir: Path
    app: str  # MODULE:ATTR inside app_dir
    env: tuple[tuple[str, str], ...] = ()

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def requirements(self) -> Path:
        return self.app_dir / "requirements.txt"


PYVIEW = Peer(
    "pyview",
    APPS / "pyview_counter",
    "app:app",
    env=(("PYVIEW_SECRET", "benchmark-secret-not-for-production"),),
)
UNICORN = Peer(
    "unicorn",
    APPS / "unicorn_counter",
    "project.asgi:application",
    env=(("DJANGO_SETTINGS_MODULE", "project.settings"),),
)
PEERS = {peer.name: peer for peer in (PYVIEW, UNICORN)}


def _stamp(peer: Peer) -> str:
    return hashlib.sha256(peer.requirements.read_bytes()).hexdigest()


def ensure_venv(peer: Peer, *, quiet: bool = True) -> Path:
    """Create the peer's venv if it is missing or its requirements changed. Returns its python."""
    marker = peer.venv / ".requirements.sha256"
    stamp = _stamp(peer)
    if peer.python.exists() and marker.exists() and marker.read_text().strip() == stamp:
        return peer.python
    print(f"setting up {peer.venv} from {peer.requirements}", file=sys.stderr, flush=True)
    if peer.venv.exists():
        shutil.rmtree(peer.venv)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(peer.venv)], check=True, timeout=120)
    pip = [str(peer.python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("--quiet")
    subprocess.run([*pip, "-r", str(peer.requirements)], check=True, timeout=PIP_TIMEOUT)
    marker.write_text(stamp + "\n")
    return peer.python


def peer_server(peer: Peer) -> Server:
    """The peer's counter app as a (not yet started) Server in its own venv."""
    return Server(
        peer.name,
        peer.app,
        python=ensure_venv(peer),
        cwd=peer.app_dir,
        env=dict(peer.env),
        pythonpath=[peer.app_dir],
    )


def installed_versions(peer: Peer, names: tuple[str, ...]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [str(peer.python), "-c", code, *names],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    import json

    versions: dict[str, str] = json.loads(out.stdout)
    return versions


async def _check_pyview(server: Server) -> str:
    from _common import PhxClient

    page = await phx_page(server, "/count")
    async with PhxClient.connect(server, page) as client:
        await client.join()
        sent, reply = await client.click("increment")
    return f"click {sent} B -> reply {len(reply.encode())} B: {reply}"


async def _check_unicorn(server: Server) -> str:
    async with UnicornClient.connect(server) as client:
        await client.load("/")
        sent, got, out = await client.call("increment")
    return f"POST body {sent} B -> response body {got} B, count={out['data']['count']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("setup", "check"))
    parser.add_argument("--verbose", action="store_true", help="show pip output")
    args = parser.parse_args()
    for peer in PEERS.values():
        ensure_venv(peer, quiet=not args.verbose)
        print(f"{peer.name}: {peer.python}")
    if args.command == "check":
        from _common import exit_on_sigterm

        exit_on_sigterm()
        for peer, check in ((PYVIEW, _check_pyview), (UNICORN, _check_unicorn)):
            with peer_server(peer) as server:
                result = asyncio.run(deadline(check(server), 30))
                print(f"{peer.name} on port {server.port} (pid {server.pid}): {result}")


if __name__ == "__main__":
    main()
