"""The ``livepy`` command: ``livepy demo`` serves the example gallery."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="livepy", description="livepy command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="serve the example gallery (in-memory broker)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    make = commands.add_parser("make", help="scaffold a component, its template and a test")
    make.add_argument("name", help="the component, e.g. Counter or order_status")
    make.add_argument("--package", default="components", help="folder for the class")
    make.add_argument("--templates", default="templates", help="folder for the template")
    make.add_argument("--tests", default="tests", help="folder for the test")
    serve = commands.add_parser(
        "serve", help="serve an app with uvicorn, one or several workers sharing a broker"
    )
    serve.add_argument("app", help="the ASGI app, as module:attribute (for example app:app)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--broker", help="broker URL for every worker (sets LIVEPY_BROKER)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes")
    args = parser.parse_args(argv)

    if args.command == "serve":
        return serve_app(args)
    if args.command == "make":
        from livepy.scaffold import make_component

        try:
            written = make_component(
                args.name,
                package=Path(args.package),
                templates=Path(args.templates),
                tests=Path(args.tests),
            )
        except (ValueError, FileExistsError) as exc:
            print(f"livepy make: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(f"created {path}")
        # `python -m`, not bare `pytest`: it puts this folder on sys.path for the import.
        print(f"run its test from this folder: python -m pytest {written[-1]}")
        return 0

    if args.command == "demo":
        from livepy.demo import build_demo

        # A fixed, public key: demo snapshots then survive a restart. Never use it in production.
        os.environ.setdefault("LIVEPY_SECRET_KEY", "livepy-demo-key-not-a-secret")

        app = build_demo()
        print(f"livepy demo: open http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def serve_app(args: argparse.Namespace) -> int:
    """``livepy serve``: refuse a multi-worker setup that could not share state."""
    if args.broker:
        os.environ["LIVEPY_BROKER"] = args.broker
    if args.workers > 1:
        problems = []
        if not os.environ.get("LIVEPY_SECRET_KEY"):
            problems.append("set LIVEPY_SECRET_KEY: every worker must sign with the same key")
        if os.environ.get("LIVEPY_BROKER", "memory://").startswith("memory:"):
            problems.append(
                "pass --broker redis://host:port/db: the memory broker cannot reach other workers"
            )
        if problems:
            for problem in problems:
                print(f"livepy serve: refusing {args.workers} workers: {problem}", file=sys.stderr)
            return 2
    print(
        f"livepy serve: {args.app} on http://{args.host}:{args.port}/ "
        f"({args.workers} worker{'s' if args.workers > 1 else ''})",
        flush=True,
    )
    sys.path.insert(0, os.getcwd())  # import myapp:app from here, as the uvicorn CLI does
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        # uvicorn's websockets-sansio for every socket, except Pusher sockets (/app/{key}),
        # which the lean protocol serves at a third of the memory (docs/topics/performance.md).
        ws="livepy.pusher.lean:PusherWebSocketProtocol",
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
