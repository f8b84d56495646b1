"""The session id rule: letters, digits, '-' and '_', 1 to 250 characters."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_magic.errors import CopilotMagicError, InvalidSessionId
from copilot_magic.sessions.ids import MAX_SESSION_ID_LENGTH, RULE, validate_session_id

ALLOWED = set(string.ascii_letters + string.digits + "-_")
valid_ids = st.from_regex(r"[A-Za-z0-9_-]{1,250}", fullmatch=True)


@pytest.mark.parametrize(
    "session_id", ["a", "Z", "0", "-", "_", "analysis-2026", "my_Session-01", "x" * 250]
)
def test_accepts_letters_digits_dash_underscore_up_to_250(session_id: str) -> None:
    assert validate_session_id(session_id) == session_id


def test_max_length_is_250() -> None:
    assert MAX_SESSION_ID_LENGTH == 250


@pytest.mark.parametrize(
    "session_id",
    [
        "",
        "x" * 251,
        "../x",
        "a b",
        "a.b",
        "a/b",
        "a\\b",
        "café",
        "a:b",
        "a@b",
        "a+b",
        "a=b",
        "a;b",
        "a\nb",
        "a\n",
        "a\x00b",
        "\t",
        ".",
        "..",
    ],
)
def test_rejects_ids_breaking_the_rule(session_id: str) -> None:
    with pytest.raises(InvalidSessionId):
        validate_session_id(session_id)


@pytest.mark.parametrize("session_id", ["", "x" * 251, "a.b", "a\nb", "a\x00b", "café"])
def test_error_message_is_one_line_and_states_the_rule(session_id: str) -> None:
    with pytest.raises(InvalidSessionId) as excinfo:
        validate_session_id(session_id)
    message = str(excinfo.value)
    assert "\n" not in message
    assert "\x00" not in message
    assert RULE in message
    assert "250" in message


def test_invalid_session_id_is_a_user_facing_value_error() -> None:
    with pytest.raises(CopilotMagicError):
        validate_session_id("a b")
    with pytest.raises(ValueError, match="session id"):
        validate_session_id("a b")


@settings(database=None)
@given(valid_ids)
def test_property_every_id_of_allowed_characters_is_accepted(session_id: str) -> None:
    assert validate_session_id(session_id) == session_id


@settings(database=None)
@given(
    st.text(alphabet=sorted(ALLOWED), max_size=120),
    st.characters().filter(lambda c: c not in ALLOWED),
    st.text(max_size=120),
)
def test_property_any_character_outside_the_set_is_rejected(
    prefix: str, bad: str, suffix: str
) -> None:
    with pytest.raises(InvalidSessionId) as excinfo:
        validate_session_id(prefix + bad + suffix)
    assert "\n" not in str(excinfo.value)
