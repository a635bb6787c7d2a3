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


def test_the_api_reference_lists_exactly_the_public_names() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "reference" / "api.md").read_text()
    sentence = doc.split("`livepy.__all__` is exactly:", 1)[1].split(".\n", 1)[0]
    assert set(re.findall(r"`([A-Za-z_]+)`", sentence)) == set(livepy.__all__)
