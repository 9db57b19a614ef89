"""Values from a cloud as any database keeps them: NUL replaced, nothing else changed."""

from __future__ import annotations

from imagetasks.dashboard.tracking.storable import json_value, text


def test_nul_becomes_the_replacement_character_in_text_and_json_keys_and_values():
    assert text("a\x00b") == "a\ufffdb"
    assert json_value({"k\x00": ["v\x00", 1, None, {"deep": "\x00"}]}) == {
        "k\ufffd": ["v\ufffd", 1, None, {"deep": "\ufffd"}]
    }


def test_the_literal_text_of_an_escape_is_left_alone():
    value = {"path": "C:\\u0000dir", "real": "x\x00"}  # a backslash then "u0000", and a NUL
    assert json_value(value) == {"path": "C:\\u0000dir", "real": "x\ufffd"}


def test_values_without_nul_come_back_as_they_were():
    value = {"a": [1, 2.5, True, "text", {"b": None}]}
    assert json_value(value) is value
    assert text("x" * 50, 16) == "x" * 16
