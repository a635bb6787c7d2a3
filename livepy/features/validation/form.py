"""Form objects: a group of fields with their rules, held in one state field.

``class ContactForm(Form)`` is made a dataclass, so it is carried in the snapshot like
any dataclass field; its rules are validated under ``"form.email"``-style paths.
"""

from __future__ import annotations

import dataclasses
from typing import Any, dataclass_transform

__all__ = ["Form"]


@dataclass_transform()
class Form:
    """Subclass it with annotated fields (and defaults); hold it as ``form: ContactForm``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls)

    def fill(self, **values: Any) -> None:
        """Set several fields at once (server-side; values are not converted)."""
        for name, value in values.items():
            if name not in {f.name for f in dataclasses.fields(self)}:  # type: ignore[arg-type]
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            setattr(self, name, value)

    def reset(self) -> None:
        """Every field back to its default."""
        fresh = type(self)()
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            setattr(self, item.name, getattr(fresh, item.name))
