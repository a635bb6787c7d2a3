import livepy

DOCUMENTED = {
    "BroadcastEvent",
    "on_notification",
    "on_presence",
    "Component",
    "ComponentDefinitionError",
    "ConfigurationError",
    "Limits",
    "LivePy",
    "LivepyError",
    "ProtocolError",
    "RenderError",
    "UnknownComponentError",
    "UploadSettings",
    "UploadedFile",
    "__version__",
    "action",
    "computed",
    "Locked",
    "on",
    "Url",
    "url",
    "Reactive",
    "Modelable",
}


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert set(livepy.__all__) == DOCUMENTED
    for name in livepy.__all__:
        assert hasattr(livepy, name)
