"""File uploads: ``lp-model`` on ``<input type="file">`` binds an ``UploadedFile`` field.

The browser asks ``POST {path}/upload`` for signed upload URLs (it shows the component's
snapshot, so only fields of genuine components can receive files), PUTs each file to its
URL with progress, then sets the field to the ids it got back. The server streams each file
into temporary storage, bounded in size while it streams, and sniffs its type from its
first bytes. See docs/reference/uploads.md.

This hook keeps upload fields honest after every model update: a failure the browser
reports (too large, aborted...) becomes an error-bag message, and so does an upload that
has expired; neither stays in the field.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args, get_origin

from livepy.convert import unwrap
from livepy.features.hooks import Hook
from livepy.features.uploads.file import FAILURE_CODES, UploadedFile
from livepy.features.uploads.rules import (
    FileSize,
    FileType,
    Image,
    MaxFiles,
    human_size,
    parse_size,
)
from livepy.features.uploads.sniff import sniff
from livepy.features.uploads.store import UploadSettings, UploadStore
from livepy.features.validation import errors_of
from livepy.features.validation.rules import Rule

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "FAILURE_CODES",
    "FileSize",
    "FileType",
    "Image",
    "MaxFiles",
    "UploadField",
    "UploadHook",
    "UploadSettings",
    "UploadStore",
    "UploadedFile",
    "human_size",
    "parse_size",
    "sniff",
    "upload_fields",
    "upload_value",
]

MESSAGES = {
    "upload_too_large": "The {field} is too large (the limit is {max}).",
    "upload_too_many": "Too many files for the {field} (at most {max_files}).",
    "upload_aborted": "The {field} upload was interrupted; please try again.",
    "upload_busy": "Too many uploads at once; please wait for one to finish.",
    "upload_storage_full": "The server has no room for the {field} now; please try again later.",
    "upload_refused": "The {field} upload was refused.",
    "upload_expired": "The {field} upload has expired; please choose the file again.",
}


@dataclass(frozen=True, slots=True)
class UploadField:
    """A state field that receives files, and the limits its rules declare."""

    name: str
    multiple: bool
    max_bytes: int | None  # from a FileSize rule
    max_files: int | None  # from a MaxFiles rule
    has_rules: bool


# component class -> its upload fields by name
_FIELDS: dict[type, dict[str, UploadField]] = {}


def upload_fields(cls: type[Component]) -> dict[str, UploadField]:
    return _FIELDS.get(cls, {})


def upload_value(
    store: UploadStore, instance: Component, field: str, files: Sequence[tuple[str, bytes]]
) -> Any:
    """Put ``(name, bytes)`` files in ``store`` for ``field`` of ``instance`` and return what
    the browser sets the field to once they are uploaded: a list of ids for a
    ``list[UploadedFile]``, else one id."""
    cls = type(instance)
    upload_field = upload_fields(cls).get(field)
    if upload_field is None:
        raise ValueError(f"{cls.__name__}.{field} is not an UploadedFile field")
    ids = [store.add(name, data, owner=(instance.id, field)) for name, data in files]
    if upload_field.multiple:
        return ids
    if len(ids) != 1:
        raise ValueError(f"{cls.__name__}.{field} takes one file, not {len(ids)}")
    return ids[0]


def _upload_kind(annotation: Any) -> bool | None:
    """True for list[UploadedFile], False for UploadedFile (optional or not), else None."""
    tp = unwrap(annotation)
    if tp is UploadedFile:
        return False
    args = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) is list:
        return True if args and unwrap(args[0]) is UploadedFile else None
    if get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return _upload_kind(args[0])
    return None


def _label(instance: object, name: str) -> str:
    labels: dict[str, str] = getattr(type(instance), "labels", None) or {}
    return labels.get(name) or name.replace("_", " ")


class UploadHook(Hook):
    def define(self, cls: type[Component]) -> None:
        fields: dict[str, UploadField] = {}
        for name, state_field in cls.__state_fields__.items():
            multiple = _upload_kind(state_field.annotation)
            if multiple is None:
                continue
            rules = [m for m in state_field.metadata if isinstance(m, Rule)]
            sizes = [r.max_bytes for r in rules if isinstance(r, FileSize)]
            counts = [r.max for r in rules if isinstance(r, MaxFiles)]
            fields[name] = UploadField(
                name,
                multiple,
                min(sizes) if sizes else None,
                min(counts) if counts else None,
                bool(rules),
            )
        _FIELDS[cls] = fields

    def updated(self, instance: Component, name: str, value: Any) -> None:
        field = upload_fields(type(instance)).get(name)
        if field is None:
            return
        files = value if isinstance(value, list) else [value]
        kept: list[Any] = []
        problems: list[str] = []
        for item in files:
            if not isinstance(item, UploadedFile):
                kept.append(item)
                continue
            code = item.error
            if code is None and not (item.exists() and item.belongs_to(instance.id, name)):
                code = "upload_expired"  # gone, made up, or uploaded for another field
            if code is None:
                kept.append(item)
            elif code not in problems:
                problems.append(code)
        if problems:
            setattr(instance, name, kept if field.multiple else None)
        bag = errors_of(instance)
        messages = [self._message(instance, field, code) for code in problems]
        if field.has_rules:
            # Validation already judged this update; a rule's message (FileSize...) says more.
            if messages and not bag.has(name):
                bag.replace([name], {name: messages})
        else:
            bag.replace([name], {name: messages} if messages else {})

    @staticmethod
    def _message(instance: Component, field: UploadField, code: str) -> str:
        custom: dict[str, str] = getattr(type(instance), "messages", None) or {}
        default = MESSAGES[code]
        if code == "upload_too_large" and field.max_bytes is None:
            default = "The {field} is too large."
        if code == "upload_too_many" and field.max_files is None:
            default = "Too many files for the {field}."
        template = custom.get(f"{field.name}.{code}") or custom.get(code) or default
        return template.format(
            field=_label(instance, field.name),
            max=human_size(field.max_bytes) if field.max_bytes else "",
            max_files=field.max_files or "",
        )
