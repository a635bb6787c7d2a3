import pytest

from livepy import ConfigurationError, LivePy
from livepy.secret import several_workers


@pytest.mark.parametrize(
    ("environ", "argv", "expected"),
    [
        ({}, [], False),
        ({"WEB_CONCURRENCY": "4"}, [], True),
        ({"WEB_CONCURRENCY": "1"}, [], False),
        ({"SERVER_SOFTWARE": "gunicorn/23"}, [], True),
        ({}, ["uvicorn", "app:app", "--workers", "2"], True),
        ({}, ["uvicorn", "app:app", "--workers=3"], True),
        ({}, ["uvicorn", "app:app", "--workers", "1"], False),
        ({}, ["uvicorn", "app:app", "--reload"], False),
    ],
)
def test_several_workers(environ: dict[str, str], argv: list[str], expected: bool) -> None:
    assert several_workers(environ, argv) is expected


def test_refuses_to_start_without_key_with_several_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIVEPY_SECRET_KEY", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    with pytest.raises(ConfigurationError, match="secret_key"):
        LivePy(templates=[])
    LivePy(templates=[], secret_key="given")


def test_development_key_is_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVEPY_SECRET_KEY", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    first = LivePy(templates=[]).snapshots.sign("c", "id", {})
    LivePy(templates=[]).snapshots.verify(first)
