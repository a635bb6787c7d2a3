"""Uploads through livepy.testing: UploadedFile fields, rules by content, failures, storing."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import pytest

from livepy import Component, LivePy, UploadedFile, UploadSettings, action
from livepy.convert import ConversionError, convert, dump
from livepy.features.uploads import FileSize, FileType, Image, MaxFiles, parse_size, sniff
from livepy.features.validation import Required
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40
PDF = b"%PDF-1.7\n" + b"\x00" * 40


class UploadAvatar(Component):
    template_source = (
        "<div><p class='error'>{{ errors.first('photo') }}</p>"
        "{% if photo %}<img src='{{ photo.preview_url() }}' alt='{{ photo.name }}'>{% endif %}"
        "<p class='saved'>{{ saved }}</p></div>"
    )
    photo: Annotated[UploadedFile | None, Required(), FileSize(max="1KB"), Image()] = None
    saved: str = ""

    @action
    def save(self) -> None:
        self.validate()
        assert self.photo is not None
        self.saved = self.photo.save_to(self.target_dir()).name
        self.photo = None

    def target_dir(self) -> Path:
        return Path(self.__class__.__dict__.get("TARGET", "/nonexistent"))


class UploadGallery(Component):
    template_source = "<div>{{ errors.first('photos') }} {{ photos|length }} files</div>"
    photos: Annotated[list[UploadedFile], MaxFiles(2), FileType("png", "pdf")] = []


class UploadPlain(Component):
    template_source = "<div>{{ errors.first('attachment') }}</div>"
    attachment: UploadedFile | None = None


@pytest.fixture
def live(tmp_path: Path) -> LivePy:
    return LivePy(templates=[], secret_key="k", uploads=UploadSettings(directory=tmp_path / "tmp"))


def test_sniffing_judges_the_content_not_the_name() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(GIF) == "image/gif"
    assert sniff(WEBP) == "image/webp"
    assert sniff(PDF) == "application/pdf"
    assert sniff(b"<?php echo 1;") == "application/octet-stream"
    assert sniff(b"RIFF\x00\x00\x00\x00WAVE") == "application/octet-stream"


def test_sizes_parse() -> None:
    assert parse_size("2MB") == 2 * 1024 * 1024
    assert parse_size("500 kb") == 500 * 1024
    assert parse_size(10) == 10
    with pytest.raises(ValueError, match="size looks like"):
        parse_size("lots")


def test_a_valid_image_is_held_as_an_id_and_previewed(live: LivePy) -> None:
    t = live.test(UploadAvatar).upload("photo", ("me.png", PNG))
    t.assert_has_no_errors()
    upload_id = t.state["photo"]
    # The snapshot holds the reference only, never the bytes.
    assert isinstance(upload_id, str) and len(upload_id) == 41
    photo = t.instance.photo
    assert isinstance(photo, UploadedFile)
    assert (photo.name, photo.size, photo.content_type, photo.extension) == (
        "me.png",
        len(PNG),
        "image/png",
        ".png",
    )
    assert photo.read() == PNG
    assert photo.preview_url().startswith("/livepy/upload/preview/")
    t.assert_see_html("src='/livepy/upload/preview/")


def test_the_wrong_type_by_content_is_an_error_whatever_the_name(live: LivePy) -> None:
    t = live.test(UploadAvatar).upload("photo", ("cat.png", PDF))
    t.assert_has_errors("photo")
    assert t.errors.first("photo") == "The photo must be an image (PNG, JPEG, GIF or WebP)."
    t.assert_see("must be an image")
    assert t.instance.photo is not None and t.instance.photo.preview_url() == ""


def test_too_big_is_an_error(live: LivePy) -> None:
    t = live.test(UploadAvatar).upload("photo", ("big.png", PNG + b"\x00" * 2000))
    assert t.errors.first("photo") == "The photo must not be larger than 1 KB."


def test_too_many_is_an_error_and_types_apply_to_each_file(live: LivePy) -> None:
    t = live.test(UploadGallery).upload("photos", ("a.png", PNG), ("b.pdf", PDF))
    t.assert_has_no_errors().assert_see("2 files")
    assert len(t.state["photos"]) == 2
    t.upload("photos", ("a.png", PNG), ("b.png", PNG), ("c.png", PNG))
    assert t.errors.first("photos") == "The photos may hold at most 2 files."
    t.upload("photos", ("a.png", PNG), ("x.gif", GIF))
    assert t.errors.first("photos") == "The photos must be a file of type: png, pdf."


def test_a_failure_the_browser_reports_lands_in_the_error_bag(live: LivePy) -> None:
    t = live.test(UploadAvatar).set("photo", {"error": "upload_too_large", "name": "huge.png"})
    # The FileSize rule names the limit; the field does not keep the failed file.
    assert t.errors.first("photo") == "The photo must not be larger than 1 KB."
    t.assert_set("photo", None)
    t = live.test(UploadPlain).set("attachment", {"error": "upload_aborted", "name": "x"})
    assert t.errors.first("attachment") == (
        "The attachment upload was interrupted; please try again."
    )
    t.assert_set("attachment", None)
    # A code the server does not know is reported as a refusal, never echoed.
    t.set("attachment", {"error": "<script>", "name": "x"})
    assert t.errors.first("attachment") == "The attachment upload was refused."
    # A later good upload clears the message.
    t.upload("attachment", ("doc.pdf", PDF)).assert_has_no_errors()


def test_an_unknown_or_expired_upload_id_is_reported(live: LivePy) -> None:
    t = live.test(UploadPlain).set("attachment", f"{live.uploads.key}.{'0' * 32}")
    assert "has expired" in t.errors.first("attachment")
    t.assert_set("attachment", None)


def test_an_upload_for_another_component_or_field_cannot_be_claimed(live: LivePy) -> None:
    theirs = live.uploads.add("theirs.pdf", PDF, owner=("someone-else", "attachment"))
    t = live.test(UploadPlain).set("attachment", theirs)
    assert "has expired" in t.errors.first("attachment")
    t.assert_set("attachment", None)
    other_field = live.uploads.add("mine.pdf", PDF, owner=(t.instance.id, "other"))
    t.set("attachment", other_field).assert_set("attachment", None)
    mine = live.uploads.add("mine.pdf", PDF, owner=(t.instance.id, "attachment"))
    t.set("attachment", mine).assert_has_no_errors().assert_set("attachment", mine)


def test_a_malformed_reference_is_refused(live: LivePy) -> None:
    t = live.test(UploadPlain)
    for bad in ("../../etc/passwd", 5, {"name": "x"}, ["a"]):
        with pytest.raises(LivepyTestError) as info:
            t.set("attachment", bad)
        assert info.value.code == c.ERR_BAD_UPDATE


def test_save_to_moves_the_file_with_an_extension_from_its_content(
    live: LivePy, tmp_path: Path
) -> None:
    UploadAvatar.TARGET = str(tmp_path / "avatars")  # type: ignore[attr-defined]
    t = live.test(UploadAvatar).upload("photo", ("evil.php", PNG))
    upload_id = t.state["photo"]
    t.call("save")
    stored = tmp_path / "avatars" / t.instance.saved
    assert stored.suffix == ".png" and stored.read_bytes() == PNG
    t.assert_set("photo", None)
    # The temporary copy and its record are gone.
    assert not any(live.uploads.directory.glob(upload_id + "*"))


def test_validate_on_save_reports_a_missing_file(live: LivePy) -> None:
    t = live.test(UploadAvatar).call("save")
    assert t.errors.first("photo") == "The photo field is required."


def test_conversion_round_trip_and_no_bytes_in_the_state(live: LivePy) -> None:
    upload_id = live.uploads.add("a.png", PNG)
    value = convert(upload_id, UploadedFile | None)
    assert isinstance(value, UploadedFile) and value.exists()
    assert dump(value, UploadedFile | None) == upload_id
    assert convert("", UploadedFile | None) is None
    with pytest.raises(ConversionError, match="not an upload id"):
        convert("nope", UploadedFile)


def test_cleanup_removes_old_temporary_files(live: LivePy) -> None:
    old = live.uploads.add("old.png", PNG)
    fresh = live.uploads.add("new.png", PNG)
    long_ago = time.time() - live.uploads.settings.max_age - 10
    for path in live.uploads.directory.glob(old + ".*"):
        os.utime(path, (long_ago, long_ago))
    assert live.uploads.cleanup(force=True) == 2
    assert not UploadedFile(old).exists() and UploadedFile(fresh).exists()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        UploadSettings(max_bytes=0)
