"""The ``livepy`` command: ``livepy demo`` serves the example gallery."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="livepy", description="livepy command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="serve the example gallery (in-memory broker)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "demo":
        from livepy.demo import build_demo

        # A fixed, public key: demo snapshots then survive a restart. Never use it in production.
        os.environ.setdefault("LIVEPY_SECRET_KEY", "livepy-demo-key-not-a-secret")

        app = build_demo()
        print(f"livepy demo: open http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
