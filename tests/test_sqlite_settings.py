"""A ``notifier.storage_url`` that SQLite cannot open stops the start, naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import notifier
from notifier.settings import SettingsError

ACCEPTED = "accepted: the path of a SQLite file, new or existing, in a folder it can write"


def start(tmp_path: Path, settings: dict[str, Any], url: str) -> SettingsError:
    with pytest.raises(SettingsError) as raised:
        notifier.main({"here": str(tmp_path)}, **{**settings, "notifier.storage_url": url})
    assert raised.value.key == "notifier.storage_url"
    return raised.value


def test_an_empty_value_names_the_ini_folder(tmp_path, settings):
    error = start(tmp_path, settings, "")
    assert str(error) == (
        f"notifier.storage_url: sqlite: unable to open database file; {ACCEPTED}"
        f" (got {str(tmp_path) + '/'!r})"
    )


def test_a_folder_is_refused(tmp_path, settings):
    folder = tmp_path / "data"
    folder.mkdir()
    error = start(tmp_path, settings, str(folder))
    assert str(error).endswith(f"; {ACCEPTED} (got {str(folder)!r})")


def test_a_file_of_another_kind_is_refused(tmp_path, settings):
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but long enough for SQLite to read a header from it\n" * 3)
    error = start(tmp_path, settings, "notes.txt")
    assert str(error) == (
        f"notifier.storage_url: sqlite: file is not a database; {ACCEPTED} (got {str(text)!r})"
    )
    assert text.read_text().startswith("not a database")  # left as it was


def test_a_path_under_a_file_is_refused(tmp_path, settings):
    (tmp_path / "plain").write_text("x")
    error = start(tmp_path, settings, "plain/notifier.sqlite")
    assert str(error).startswith(
        f"notifier.storage_url: cannot make the folder {tmp_path / 'plain'} (File exists); "
    )
