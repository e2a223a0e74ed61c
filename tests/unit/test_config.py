from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings, load_settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAQBOT_CONFIG", raising=False)
    s = Settings()
    assert s.index.path == Path("var/index")
    assert s.index.host is None
    assert s.db.url.startswith("sqlite:///var/")


def test_env_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_INDEX__HOST", "chroma")
    monkeypatch.setenv("FAQBOT_RETRIEVAL__ABSTAIN_THRESHOLD", "0.42")
    s = Settings()
    assert s.index.host == "chroma"
    assert s.retrieval.abstain_threshold == pytest.approx(0.42)


def test_config_file_sits_below_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "faqbot.yaml"
    cfg.write_text("retrieval:\n  top_k: 7\n  abstain_threshold: 0.5\n", encoding="utf-8")
    monkeypatch.setenv("FAQBOT_RETRIEVAL__ABSTAIN_THRESHOLD", "0.2")
    s = load_settings(cfg)
    assert s.retrieval.top_k == 7
    assert s.retrieval.abstain_threshold == pytest.approx(0.2)


def test_missing_or_malformed_config_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="config file .*nope.yaml"):
        load_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_settings(bad)


def test_out_of_range_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_RETRIEVAL__ABSTAIN_THRESHOLD", "1.5")
    with pytest.raises(ValueError, match="abstain_threshold"):
        Settings()


def test_the_serving_process_uses_one_blas_thread() -> None:
    """In a child process: the limit is process-wide and would slow this one's fits."""
    import subprocess
    import sys

    code = (
        "from service.server import limit_blas_threads; limit_blas_threads(); "
        "from threadpoolctl import threadpool_info; "
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[1]"


def test_the_openai_endpoint_key_must_be_long() -> None:
    import pytest
    from pydantic import ValidationError

    from service.config import Settings

    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(compat={"api_key": "short"})
    assert Settings(compat={"api_key": "x" * 16}).compat.api_key is not None
    assert Settings().compat.api_key is None  # off by default


def test_the_shop_is_set_once_and_the_old_names_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAQBOT_SHOP__NAME", "Velora")
    assert Settings().shop.name == "Velora"
    monkeypatch.delenv("FAQBOT_SHOP__NAME")
    monkeypatch.setenv("FAQBOT_WEB__SHOP_NAME", "Old Name")
    monkeypatch.setenv("FAQBOT_CHAT__CONTACT", "help@old.example")
    s = Settings()
    assert (s.shop.name, s.shop.contact) == ("Old Name", "help@old.example")
    monkeypatch.setenv("FAQBOT_SHOP__NAME", "New Name")  # the new place wins
    assert Settings().shop.name == "New Name"
    cfg = tmp_path / "faqbot.yaml"
    cfg.write_text("chat:\n  shop_name: From File\n", encoding="utf-8")
    monkeypatch.delenv("FAQBOT_SHOP__NAME")
    monkeypatch.delenv("FAQBOT_WEB__SHOP_NAME")
    assert load_settings(cfg).shop.name == "From File"


def test_every_secret_is_hidden_from_reprs_and_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_LLM__API_KEY", "sk-llm-key-1234567890")
    monkeypatch.setenv("FAQBOT_HANDOFF__SMTP_PASSWORD", "smtp-password-0987")
    monkeypatch.setenv("FAQBOT_COMPAT__API_KEY", "compat-key-abcdefghijkl")
    s = Settings()
    shown = repr(s) + str(s.model_dump())
    for secret in ("sk-llm-key-1234567890", "smtp-password-0987", "compat-key-abcdefghijkl"):
        assert secret not in shown
    assert s.llm.api_key.get_secret_value() == "sk-llm-key-1234567890"


def test_comma_lists_read_alike_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_LLM__LANGUAGES", '["en", "de"]')
    monkeypatch.setenv("FAQBOT_WEB__ALLOWED_ORIGINS", "https://a.example, https://b.example")
    s = Settings()
    assert s.llm.languages == ["en", "de"]
    assert s.web.allowed_origins == ["https://a.example", "https://b.example"]
