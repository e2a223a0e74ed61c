"""The embedded model leaves a core to the service: FAQBOT_LLM__THREADS, by default the
cores this process may use minus one (bench/model_threads.py measured why)."""

from __future__ import annotations

import pytest

from service.config import LLMSettings, Settings
from service.llm import llamacpp
from service.llm.factory import make_chat_model


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (4, 3), (8, 7)])
def test_the_default_is_the_usable_cores_minus_one(
    monkeypatch: pytest.MonkeyPatch, cores: int, threads: int
) -> None:
    # the affinity, not the machine's count: taskset and container limits narrow it
    monkeypatch.setattr(llamacpp.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    monkeypatch.setattr(llamacpp.os, "cpu_count", lambda: 64)
    model = make_chat_model(LLMSettings(provider="llamacpp"))
    assert isinstance(model, llamacpp.LlamaCppChatModel)
    assert model.threads == threads


def test_the_setting_is_what_llama_cpp_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQBOT_LLM__THREADS", "2")
    model = make_chat_model(Settings().llm)
    assert isinstance(model, llamacpp.LlamaCppChatModel) and model.threads == 2
    with pytest.raises(ValueError):
        LLMSettings(threads=0)
