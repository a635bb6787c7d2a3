import enum
from dataclasses import dataclass
from typing import Literal, Optional

import pytest

from livepy.convert import ConversionError, check_supported, convert, dump


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    S = 1
    L = 3


@dataclass
class Point:
    x: int
    y: int = 0


@dataclass
class Shape:
    name: str
    points: list[Point]
    color: Color = Color.RED


GOOD = [
    (int, 5, 5),
    (int, "42", 42),
    (int, " 7 ", 7),
    (int, 3.0, 3),
    (float, 1, 1.0),
    (float, "2.5", 2.5),
    (str, "x", "x"),
    (bool, True, True),
    (bool, "false", False),
    (bool, "on", True),
    (type(None), None, None),
    (Optional[int], None, None),  # noqa: UP045
    (int | None, "", None),
    (int | None, "3", 3),
    (str | None, "", ""),
    (list[int], [1, "2"], [1, 2]),
    (dict[str, float], {"a": 1}, {"a": 1.0}),
    (Literal["a", "b"], "b", "b"),
    (Literal[1, 2], "2", 2),
    (Color, "blue", Color.BLUE),
    (Size, 3, Size.L),
    (Size, "3", Size.L),
    (Point, {"x": 1}, Point(1, 0)),
    (
        Shape,
        {"name": "t", "points": [{"x": 1, "y": 2}], "color": "blue"},
        Shape("t", [Point(1, 2)], Color.BLUE),
    ),
]


@pytest.mark.parametrize(("tp", "value", "expected"), GOOD)
def test_good_values_convert(tp: object, value: object, expected: object) -> None:
    result = convert(value, tp)
    assert result == expected
    assert type(result) is type(expected)


BAD = [
    (int, "4x"),
    (int, 1.5),
    (int, True),
    (int, None),
    (int, [1]),
    (float, "nan"),
    (float, "inf"),
    (float, True),
    (str, 5),
    (str, None),
    (str, {"__class__": "os.system"}),
    (bool, "maybe"),
    (type(None), 0),
    (list[int], "1,2"),
    (list[int], [1, "x"]),
    (dict[str, int], [1]),
    (Literal["a", "b"], "c"),
    (Literal[1], True),
    (Color, "green"),
    (Point, {"x": 1, "z": 2}),
    (Point, {"y": 1}),
    (Point, [1, 2]),
    (Shape, {"name": "t", "points": [{"x": "no"}]}),
]


@pytest.mark.parametrize(("tp", "value"), BAD)
def test_bad_values_are_refused_with_a_message(tp: object, value: object) -> None:
    with pytest.raises(ConversionError) as info:
        convert(value, tp, "field")
    assert "field" in str(info.value)


def test_error_names_the_nested_path() -> None:
    with pytest.raises(ConversionError, match=r"shape\.points\[0\]\.x"):
        convert({"name": "t", "points": [{"x": "no"}]}, Shape, "shape")


@pytest.mark.parametrize("tp", [object, set[int], dict[int, int], tuple[int, int], bytes, list])
def test_unsupported_types_are_refused(tp: object) -> None:
    with pytest.raises(TypeError, match="where"):
        check_supported(tp, "where")


def test_dump_produces_plain_data() -> None:
    shape = Shape("t", [Point(1, 2)], Color.BLUE)
    assert dump(shape, Shape) == {"name": "t", "points": [{"x": 1, "y": 2}], "color": "blue"}
    assert dump(None, int | None) is None


def test_dump_refuses_unserializable_values() -> None:
    with pytest.raises(TypeError, match=r"C\.when holds a object"):
        dump(object(), int, "C.when")
    with pytest.raises(TypeError, match="is None"):
        dump(None, int, "C.count")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, "9" * 30, 1e20])
def test_integers_beyond_64_bits_are_refused(value: object) -> None:
    with pytest.raises(ConversionError, match=r"64-bit|expected an integer"):
        convert(value, int, "n")


def test_dump_refuses_integers_beyond_64_bits() -> None:
    with pytest.raises(TypeError, match="64-bit"):
        dump(2**70, int, "C.n")
