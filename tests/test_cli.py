import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import RedisServer


def livepy(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVEPY_")}
    return subprocess.run(
        [sys.executable, "-m", "livepy.cli", *args],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({}, ["LIVEPY_SECRET_KEY", "--broker"]),
        ({"LIVEPY_SECRET_KEY": "k"}, ["--broker"]),
        ({"LIVEPY_BROKER": "redis://127.0.0.1:1/0"}, ["LIVEPY_SECRET_KEY"]),
    ],
)
def test_serve_refuses_workers_that_cannot_share_state(
    env: dict[str, str], needs: list[str]
) -> None:
    result = livepy("serve", "examples.counter.app:app", "--workers", "2", **env)
    assert result.returncode == 2
    for need in needs:
        assert need in result.stderr
    assert "refusing 2 workers" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = livepy("nope")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.redis
async def get_once_listening(process: asyncio.subprocess.Process, url: str) -> httpx.Response:
    """GET ``url`` as soon as the ``livepy serve`` being started listens (polling, 30 s)."""
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            if process.returncode is not None:
                pytest.fail(f"livepy serve exited with {process.returncode}")
            try:
                return await http.get(url)
            except httpx.ConnectError:
                await asyncio.sleep(0.05)  # polling until a worker listens
    pytest.fail("livepy serve never listened")


async def test_serve_runs_two_workers_on_redis(redis_server: RedisServer) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVEPY_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "livepy.cli", "serve", "examples.counter.app:app",
        "--port", str(port), "--workers", "2", "--broker", redis_server.url,
        env={**environ, "LIVEPY_SECRET_KEY": "shared"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        page = await get_once_listening(process, f"http://127.0.0.1:{port}/")
        assert page.status_code == 200 and "lp-snapshot" in page.text
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)


def test_make_scaffolds_a_working_component(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "livepy.cli", "make", "OrderStatus"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "python -m pytest tests/test_order_status.py" in result.stdout
    for path in ("components/order_status.py", "templates/order_status.html"):
        assert (tmp_path / path).exists()
    (tmp_path / "components" / "__init__.py").write_text("")
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert "1 passed" in test.stdout, test.stdout + test.stderr
    again = livepy_in(tmp_path, "make", "OrderStatus")
    assert again.returncode == 2 and "not overwriting" in again.stderr
    bad = livepy_in(tmp_path, "make", "9lives")
    assert bad.returncode == 2 and "not a valid component name" in bad.stderr


def livepy_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "livepy.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_serve_imports_the_app_from_the_current_folder(tmp_path: Path) -> None:
    # The console script (unlike `python -m`) does not put the current folder on sys.path.
    (tmp_path / "scratchapp.py").write_text(
        "from starlette.applications import Starlette\nfrom livepy import LivePy\n"
        "live = LivePy(secret_key='k')\napp = Starlette()\nlive.install(app)\n"
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LIVEPY_")}
    environ.pop("PYTHONPATH", None)
    environ.update(
        LIVEPY_PUSHER_APP_ID="1", LIVEPY_PUSHER_APP_KEY="key", LIVEPY_PUSHER_APP_SECRET="s"
    )
    script = str(Path(sys.executable).parent / "livepy")
    process = await asyncio.create_subprocess_exec(
        script, "serve", "scratchapp:app", "--port", str(port),
        cwd=tmp_path, env=environ,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        up = await get_once_listening(process, f"http://127.0.0.1:{port}/up")
        assert up.json() == {"health": "OK"}
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)
