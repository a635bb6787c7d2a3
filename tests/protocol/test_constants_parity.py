"""js/constants.js and livepy/protocol/constants.py must define exactly the same names."""

import json
import re

from livepy.paths import JS_DIR
from livepy.protocol import constants


def test_js_constants_match_python() -> None:
    source = (JS_DIR / "constants.js").read_text()
    js = {
        name: json.loads(value)
        for name, value in re.findall(r"^export const ([A-Z_0-9]+) = (.+?);$", source, re.M)
    }
    python = {name: getattr(constants, name) for name in constants.__all__}
    assert js == python
    assert len(python) > 20
