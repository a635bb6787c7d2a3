"""Every example starts and serves its page; so does the demo gallery and `livepy demo`."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import httpx
import pytest

from livepy.demo import EXAMPLES, build_demo, load_example
from livepy.paths import EXAMPLES_DIR
from tests.conftest import ServeFactory


def test_every_example_folder_is_in_the_gallery() -> None:
    folders = {p.parent.name for p in EXAMPLES_DIR.glob("*/app.py")}
    assert folders == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_example_serves_its_page(serve: ServeFactory, name: str) -> None:
    server = await serve(load_example(name).app)
    async with httpx.AsyncClient() as http:
        page = await http.get(server.url + "/")
        runtime = await http.get(server.url + "/livepy/livepy.js")
    assert page.status_code == 200
    assert 'lp-id="' in page.text and 'lp-snapshot="' in page.text
    assert runtime.status_code == 200
    assert "javascript" in runtime.headers["content-type"]


async def test_demo_gallery(serve: ServeFactory) -> None:
    server = await serve(build_demo())
    async with httpx.AsyncClient() as http:
        index = await http.get(server.url + "/")
        assert all(f'href="/{name}/"' in index.text for name in EXAMPLES)
        for name in EXAMPLES:
            page = await http.get(f"{server.url}/{name}/")
            assert page.status_code == 200
            assert f'"ws": "/{name}/livepy/ws"' in page.text


async def test_livepy_demo_command() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "livepy.cli",
        "demo",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert f"http://127.0.0.1:{port}/" in line.decode()
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    response = await http.get(f"http://127.0.0.1:{port}/counter/")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)  # polling the port until uvicorn listens
            else:
                pytest.fail("livepy demo never started listening")
        assert response.status_code == 200 and "lp-id" in response.text
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)
