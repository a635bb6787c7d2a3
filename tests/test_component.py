import enum
from typing import ClassVar

import pytest

from livepy import Component, ComponentDefinitionError, UnknownComponentError, action
from livepy.component import convert_arguments
from livepy.convert import ConversionError
from livepy.registry import resolve, snake_case


class Mode(enum.Enum):
    A = "a"


class StateExample(Component):
    template_source = "<div>{{ count }}</div>"
    count: int = 0
    tags: list[str] = []
    mode: Mode = Mode.A
    limit: ClassVar[int] = 10
    _private: int = 0

    @action
    def add(self, by: int, label: str = "x") -> None:
        self.count += by

    def helper(self) -> None:
        pass


def test_state_fields_are_annotated_public_attributes() -> None:
    assert list(StateExample.__state_fields__) == ["count", "tags", "mode"]


def test_registered_by_snake_case_name() -> None:
    assert StateExample.name == "state_example"
    assert resolve("state_example") is StateExample


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Counter", "counter"), ("OrderStatus", "order_status"), ("HTMLTable", "html_table")],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_explicit_name() -> None:
    class Named(Component):
        name = "my-widget"
        template_source = "<div></div>"

    assert resolve("my-widget") is Named


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownComponentError, match="no component is registered as 'nope'"):
        resolve("nope")


def test_duplicate_name_from_another_class_is_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="already registered"):

        class StateExample(Component):  # same name as the module-level class
            template_source = "<div></div>"


def test_mutable_defaults_are_per_instance() -> None:
    a, b = StateExample(), StateExample()
    a.tags.append("x")
    assert b.tags == []


def test_only_actions_are_collected() -> None:
    assert set(StateExample.__actions__) == {"add"}


def test_action_arguments_are_converted() -> None:
    spec = StateExample.__actions__["add"]
    assert convert_arguments(spec, ("5",)) == [5, "x"]
    with pytest.raises(ConversionError, match="missing argument 'by'"):
        convert_arguments(spec, ())
    with pytest.raises(ConversionError, match="takes 2 argument"):
        convert_arguments(spec, (1, "a", 3))
    with pytest.raises(ConversionError, match=r"add\(by\)"):
        convert_arguments(spec, ("many",))


def test_unserializable_state_type_is_refused_at_definition() -> None:
    with pytest.raises(ComponentDefinitionError, match=r"Bad\.when: type object"):

        class Bad(Component):
            when: object = None


def test_bad_default_is_refused_at_definition() -> None:
    with pytest.raises(ComponentDefinitionError, match=r"BadDefault\.items"):

        class BadDefault(Component):
            items: list[int] = [object()]  # type: ignore[list-item]


def test_unannotated_action_parameter_is_refused() -> None:
    with pytest.raises(ComponentDefinitionError, match="needs a type annotation"):

        class Untyped(Component):
            @action
            def go(self, value) -> None:  # type: ignore[no-untyped-def]
                pass


def test_unserializable_value_is_refused_on_first_render() -> None:
    class Late(Component):
        template_source = "<div></div>"
        data: dict[str, int] = {}

    late = Late()
    late.data = {"x": object()}  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"Late\.data\.x holds a object"):
        late.dump_state()


def test_required_field_without_value_is_named() -> None:
    class NeedsId(Component):
        template_source = "<div></div>"
        order_id: int

    with pytest.raises(TypeError, match=r"NeedsId\.order_id has no value"):
        NeedsId().dump_state()


def test_default_mount_assigns_props() -> None:
    class Props(Component):
        template_source = "<div></div>"
        order_id: int

    props = Props()
    props.mount(order_id="42")
    assert props.order_id == 42
    with pytest.raises(TypeError, match="no state field 'other'"):
        props.mount(other=1)
