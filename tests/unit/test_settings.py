"""Settings from the environment, the provider config, and secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot_magic.config import DEFAULT_ABSTAIN_SIGNAL, Secret, Settings
from copilot_magic.errors import InvalidSetting
from copilot_magic.values import is_blank

FULL_ENV = {
    "COPILOT_MAGIC_MODEL": "gpt-test",
    "COPILOT_MAGIC_PROVIDER_URL": "http://127.0.0.1:9/v1",
    "COPILOT_MAGIC_PROVIDER_TYPE": "anthropic",
    "COPILOT_MAGIC_PROVIDER_API_KEY": "sk-settings-secret",
    "COPILOT_HOME": "/data/copilot",
    "COPILOT_CLI_PATH": "/opt/copilot/bin/copilot",
    "COPILOT_MAGIC_ABSTAIN_SIGNAL": "<<NOPE>>",
}


def test_from_environment_reads_every_variable() -> None:
    settings = Settings.from_environment(FULL_ENV)
    assert settings.model == "gpt-test"
    assert settings.provider_url == "http://127.0.0.1:9/v1"
    assert settings.provider_type == "anthropic"
    assert settings.provider_api_key.reveal() == "sk-settings-secret"
    assert settings.data_dir == "/data/copilot"
    assert settings.cli_path == "/opt/copilot/bin/copilot"
    assert settings.abstain_signal == "<<NOPE>>"


def test_from_environment_defaults_with_empty_environment() -> None:
    settings = Settings.from_environment({})
    assert settings == Settings()
    assert settings.model == ""
    assert settings.provider_type == "openai"
    assert not settings.provider_api_key
    assert settings.abstain_signal == DEFAULT_ABSTAIN_SIGNAL == "[[POR_ABSTAIN]]"


def test_empty_provider_type_and_signal_fall_back_to_defaults() -> None:
    settings = Settings.from_environment(
        {"COPILOT_MAGIC_PROVIDER_TYPE": "", "COPILOT_MAGIC_ABSTAIN_SIGNAL": ""}
    )
    assert settings.provider_type == "openai"
    assert settings.abstain_signal == DEFAULT_ABSTAIN_SIGNAL


def test_from_environment_without_argument_reads_os_environ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_MODEL", "from-os-environ")
    assert Settings.from_environment().model == "from-os-environ"


def test_provider_config_is_none_without_url() -> None:
    assert Settings(provider_api_key=Secret("sk-x")).provider_config() is None
    assert not Settings().uses_provider


def test_provider_config_with_url_has_type_base_url_and_key() -> None:
    settings = Settings.from_environment(FULL_ENV)
    assert settings.uses_provider
    assert settings.provider_config() == {
        "type": "anthropic",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-settings-secret",
    }


def test_provider_config_without_key_omits_api_key() -> None:
    config = Settings(provider_url="http://localhost:11434/v1").provider_config()
    assert config == {"type": "openai", "base_url": "http://localhost:11434/v1"}


def test_secret_never_shows_its_value() -> None:
    secret = Secret("sk-hidden-value")
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret!s}"]
    shown += ["%s" % secret, "{}".format(secret), format(secret)]  # noqa: UP031, UP032
    for text in shown:
        assert "sk-hidden-value" not in text
        assert "*" in text
    assert secret.reveal() == "sk-hidden-value"


def test_empty_secret_is_falsy_and_shows_empty() -> None:
    assert not Secret("")
    assert repr(Secret("")) == "''"
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"


def test_settings_repr_and_description_hide_the_key() -> None:
    settings = Settings.from_environment(FULL_ENV)
    assert "sk-settings-secret" not in repr(settings)
    assert "sk-settings-secret" not in settings.describe_model()
    assert "gpt-test" in settings.describe_model()
    assert "anthropic" in settings.describe_model()


def test_describe_model_without_provider_names_github_copilot() -> None:
    assert Settings().describe_model() == "the default model via GitHub Copilot"


def test_data_path_defaults_to_home_dot_copilot() -> None:
    assert Settings().data_path == Path.home() / ".copilot"


def test_data_path_expands_user() -> None:
    assert Settings(data_dir="~/elsewhere").data_path == Path.home() / "elsewhere"
    assert Settings(data_dir="/data/copilot").data_path == Path("/data/copilot")


def test_the_notebook_path_suffix_is_compared_ignoring_case() -> None:
    assert Settings(notebook_path="/x/Report.IPYNB").notebook_path == "/x/Report.IPYNB"
    with pytest.raises(InvalidSetting, match=r"the path of an \.ipynb file"):
        Settings(notebook_path="/x/report.txt")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \t\n",
        "\u200b",
        "\ufeff",
        "\u2060\u200d\u200c",
        "\u00a0\u3000\u2028",
        "\x00\x1b\x7f",
        "\u3164\u115f",
        "\ufe0f\u034f",
        "\u00ad",
    ],
)
def test_invisible_only_text_is_blank(text: str) -> None:
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", "\u200bx", ".", "👍", "\u0600", "\ufeff bom first", "_"])
def test_text_with_anything_to_see_is_not_blank(text: str) -> None:
    assert not is_blank(text)
