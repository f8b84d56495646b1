"""The extension on a real IPython shell: loading, traits, %config and unloading."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets import TraitError

from copilot_magic.config import Settings
from copilot_magic.ui.magics import CopilotMagics


def _load(ip: InteractiveShell) -> CopilotMagics:
    ip.run_line_magic("load_ext", "copilot_magic")
    magics = ip._copilot_magics
    assert isinstance(magics, CopilotMagics)
    return magics


def test_load_ext_registers_both_magics(ip: InteractiveShell) -> None:
    _load(ip)
    assert "copilot_session" in ip.magics_manager.magics["line"]
    assert "copilot" in ip.magics_manager.magics["cell"]


def test_load_extension_twice_keeps_one_instance(ip: InteractiveShell) -> None:
    from copilot_magic import load_ipython_extension

    magics = _load(ip)
    load_ipython_extension(ip)
    assert ip._copilot_magics is magics
    assert ip.magics_manager.magics["line"]["copilot_session"].__self__ is magics


def test_traits_default_from_environment(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_MODEL", "env-model")
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_TYPE", "azure")
    monkeypatch.setenv("COPILOT_MAGIC_PROVIDER_API_KEY", "sk-env-secret")
    monkeypatch.setenv("COPILOT_HOME", "/data/env-home")
    monkeypatch.setenv("COPILOT_CLI_PATH", "/opt/env/copilot")
    monkeypatch.setenv("COPILOT_MAGIC_ABSTAIN_SIGNAL", "<<ENV>>")
    settings = _load(ip).settings()
    assert settings == Settings.from_environment()
    assert settings.model == "env-model"
    assert settings.provider_url == "http://127.0.0.1:9/v1"
    assert settings.provider_type == "azure"
    assert settings.provider_api_key.reveal() == "sk-env-secret"
    assert settings.data_dir == "/data/env-home"
    assert settings.cli_path == "/opt/env/copilot"
    assert settings.abstain_signal == "<<ENV>>"


def test_traits_default_without_environment(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COPILOT_CLI_PATH", raising=False)
    assert _load(ip).settings() == Settings()


def test_config_model_changes_settings(ip: InteractiveShell) -> None:
    magics = _load(ip)
    ip.run_line_magic("config", 'CopilotMagics.model = "x"')
    assert magics.model == "x"
    assert magics.settings().model == "x"
    assert ip.run_line_magic("config", "CopilotMagics.model") == "x"


def test_config_provider_settings_reach_provider_config(ip: InteractiveShell) -> None:
    magics = _load(ip)
    ip.run_line_magic("config", 'CopilotMagics.provider_url = "http://127.0.0.1:9/v1"')
    ip.run_line_magic("config", 'CopilotMagics.provider_type = "anthropic"')
    ip.run_line_magic("config", 'CopilotMagics.provider_api_key = "sk-unit-secret"')
    assert magics.settings().provider_config() == {
        "type": "anthropic",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-unit-secret",
    }


def test_config_listing_never_shows_the_api_key(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    magics = _load(ip)
    ip.run_line_magic("config", 'CopilotMagics.provider_api_key = "sk-unit-secret"')
    assert magics.provider_api_key.reveal() == "sk-unit-secret"
    capsys.readouterr()
    ip.run_line_magic("config", "CopilotMagics")
    ip.run_line_magic("config", "")
    shown = capsys.readouterr()
    assert "provider_api_key" in shown.out
    assert "sk-unit-secret" not in shown.out + shown.err
    assert "sk-unit-secret" not in repr(
        ip.run_line_magic("config", "CopilotMagics.provider_api_key")
    )
    assert "sk-unit-secret" not in repr(magics.settings())


def test_config_listing_never_shows_the_api_key_in_captured_output(ip: InteractiveShell) -> None:
    _load(ip)
    ip.run_line_magic("config", 'CopilotMagics.provider_api_key = "sk-unit-secret"')
    with capture_output() as captured:
        ip.run_line_magic("config", "CopilotMagics")
    assert "CopilotMagics.provider_api_key" in captured.stdout
    assert "sk-unit-secret" not in captured.stdout + captured.stderr


def test_provider_type_rejects_unknown_value(ip: InteractiveShell) -> None:
    magics = _load(ip)
    with pytest.raises(TraitError):
        magics.provider_type = "bogus"
    assert magics.provider_type == "openai"


def test_config_magic_leaves_provider_type_unchanged_on_unknown_value(
    ip: InteractiveShell,
) -> None:
    magics = _load(ip)
    ip.run_line_magic("config", 'CopilotMagics.provider_type = "azure"')
    ip.run_line_magic("config", 'CopilotMagics.provider_type = "bogus"')
    assert magics.provider_type == "azure"


def test_provider_api_key_rejects_non_string(ip: InteractiveShell) -> None:
    magics = _load(ip)
    with pytest.raises(TraitError):
        magics.provider_api_key = 42  # type: ignore[assignment]


class _FakeClosableStore:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("model", "other-model"),
        ("provider_url", "http://127.0.0.1:9/v1"),
        ("provider_type", "azure"),
        ("data_dir", "/data/other"),
        ("cli_path", "/opt/other/copilot"),
        ("abstain_signal", "<<X>>"),
        ("notebook_path", "/work/other.ipynb"),
        ("reply_timeout", 7.5),
        ("updates_per_second", 3.0),
        ("verbose_errors", True),
    ],
)
def test_a_setting_changed_after_first_use_is_what_the_store_reads_next(
    ip: InteractiveShell, trait: str, value: object
) -> None:
    """Bug 1 of issue 11: the store kept the settings it was made with (model among them)."""
    magics = _load(ip)
    store = magics.store  # made before the change, as after a first command
    ip.run_line_magic("config", f"CopilotMagics.{trait} = {value!r}")
    assert getattr(store.settings, trait) == value
    assert getattr(store.bridge.settings, trait) == value
    assert magics.store is store


def test_a_new_api_key_is_what_the_store_reads_next(ip: InteractiveShell) -> None:
    magics = _load(ip)
    store = magics.store
    magics.provider_url = "http://127.0.0.1:9/v1"
    magics.provider_api_key = "sk-new-key"
    config = store.settings.provider_config()
    assert config is not None
    assert config["api_key"] == "sk-new-key"


def test_unload_ext_removes_the_magics_and_closes_the_fake_store(ip: InteractiveShell) -> None:
    magics = _load(ip)
    fake = _FakeClosableStore()
    magics._store = fake  # type: ignore[assignment]
    ip.run_line_magic("unload_ext", "copilot_magic")
    assert "copilot_session" not in ip.magics_manager.magics["line"]
    assert "copilot" not in ip.magics_manager.magics["cell"]
    assert "CopilotMagics" not in ip.magics_manager.registry
    assert ip._copilot_magics is None
    assert fake.closed == 1


def test_load_after_unload_registers_a_new_instance(ip: InteractiveShell) -> None:
    first = _load(ip)
    ip.run_line_magic("unload_ext", "copilot_magic")
    second = _load(ip)
    assert second is not first
    assert "copilot_session" in ip.magics_manager.magics["line"]


@pytest.mark.parametrize(
    "case",
    [
        ("updates_per_second = 0", "updates_per_second", 10.0, "a number above 0"),
        ("updates_per_second = -1", "updates_per_second", 10.0, "a number above 0"),
        ("reply_timeout = -5", "reply_timeout", 120.0, "a number of seconds above 0"),
        ("reply_timeout = 0", "reply_timeout", 120.0, "a number of seconds above 0"),
        ("provider_url = 'localhost:11434'", "provider_url", "", "an http:// or https:// URL"),
        ("notebook_path = 'notes.txt'", "notebook_path", "", "the path of an .ipynb file"),
        ("provider_type = 'bogus'", "provider_type", "openai", "one of openai, azure, anthropic"),
    ],
)
def test_an_odd_config_value_is_refused_in_one_line_and_the_old_value_kept(
    ip: InteractiveShell, caplog: pytest.LogCaptureFixture, case: tuple[str, str, object, str]
) -> None:
    """Bug 2 of issue 11: updates_per_second = 0 was taken, then a turn failed with a traceback."""
    line, trait, kept, says = case
    magics = _load(ip)
    ip.run_line_magic("config", f"CopilotMagics.{line}")
    assert getattr(magics, trait) == kept
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    message = record.getMessage()
    assert says in message
    assert f"CopilotMagics.{trait}" in message
    assert "\n" not in message


def test_a_bad_environment_value_is_one_line_naming_the_variable(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_MAGIC_REPLY_TIMEOUT", "soon")
    _load(ip)
    with pytest.raises(UsageError) as refused:
        ip.run_line_magic("copilot_session", "--list")
    assert str(refused.value) == "COPILOT_MAGIC_REPLY_TIMEOUT='soon' must be a number."


def test_unload_removes_the_session_id_completer(ip: InteractiveShell) -> None:
    """Bug 4 of issue 11: the completer stayed installed after %unload_ext."""
    _load(ip)
    completers = ip.strdispatchers["complete_command"].strs
    assert {"%copilot_session", "%%copilot"} <= set(completers)
    ip.run_line_magic("unload_ext", "copilot_magic")
    assert {"%copilot_session", "%%copilot"} & set(completers) == set()
