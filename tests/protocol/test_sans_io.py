"""The protocol core must stay free of I/O frameworks."""

import ast
from pathlib import Path

import livepy.protocol

ALLOWED_THIRD_PARTY = {"msgpack", "itsdangerous"}
FORBIDDEN = {"asyncio", "starlette", "redis", "uvicorn", "websockets", "anyio", "socket"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_protocol_imports_no_io_frameworks() -> None:
    package = Path(livepy.protocol.__file__).parent
    files = sorted(package.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        imported = imported_modules(path)
        assert not imported & FORBIDDEN, f"{path.name} imports {imported & FORBIDDEN}"
        import sys

        third_party = imported - set(sys.stdlib_module_names) - {"livepy", "__future__"}
        assert third_party <= ALLOWED_THIRD_PARTY, f"{path.name} imports {third_party}"
