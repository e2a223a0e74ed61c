"""ChatService on fakes only (hash embedder, in-memory vectors and history, instant
model): every step of a turn in milliseconds. The integration tests run the same
behaviour through the real parts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ingest.pipeline import IngestPipeline
from service.chat.generation import generation_limiter
from service.chat.history import HistoryWriter
from service.chat.memory_store import MemoryChatStore
from service.chat.modes import choose_mode
from service.chat.service import ChatService
from service.chat.turn import ChatEvent
from service.config import ChatSettings, Settings
from service.llm.base import ModelError
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from tests.conftest import SMALL_FAQ
from tests.fakes.hash_embedder import HashEmbedder
from tests.fakes.instant_model import InstantChatModel
from tests.fakes.memory_vectors import MemoryVectorBackend

RETURNS = "How long do I have to return an item?"


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("fast")
    faq = root / "faq"
    faq.mkdir()
    for name, text in SMALL_FAQ.items():
        (faq / name).write_text(text, encoding="utf-8")
    # Explicit thresholds: a four-entry FAQ with hash vectors has nothing to calibrate on.
    settings = Settings(
        index={"path": root / "index"},
        retrieval={"abstain_threshold": 0.44, "default_canonical_margin": 0.0},
    )
    embedder, backend, store = HashEmbedder(), MemoryVectorBackend(), IndexStore(root / "index")
    IngestPipeline(settings, embedder, backend, store, log=lambda _: None).run([faq])
    return Retriever.open(store, backend, embedder, settings.retrieval)


# Each service's history store and writer, which the service is given, not asked for.
PARTS: dict[int, tuple[MemoryChatStore, HistoryWriter]] = {}


@pytest.fixture
def make_service(retriever: Retriever) -> Iterator[Callable[..., ChatService]]:
    def make(model: InstantChatModel | None = None, **chat: Any) -> ChatService:
        settings = Settings(chat=ChatSettings(**chat))
        store = MemoryChatStore()
        history = HistoryWriter(store)
        service = ChatService(
            settings, lambda: retriever, model or InstantChatModel(), store, history=history
        )
        PARTS[id(service)] = (store, history)
        return service

    yield make
    PARTS.clear()


def turn(service: ChatService, message: str, session: str | None = None) -> list[ChatEvent]:
    async def collect() -> list[ChatEvent]:
        events = [e async for e in service.respond(message, session)]
        await PARTS[id(service)][1].drain(0.1)
        return events

    return asyncio.run(collect())


def done(events: list[ChatEvent]) -> dict[str, Any]:
    assert events[-1].kind == "done"
    return events[-1].data


def test_a_confident_match_is_answered_with_the_entrys_own_text(
    make_service: Callable[..., ChatService],
) -> None:
    model = InstantChatModel()
    record = done(turn(make_service(model, canonical_threshold=0.3), RETURNS))
    assert record["mode"] == "canonical" and "30 days" in record["answer"]
    assert record["sources"][0]["id"] == "returns-window" and model.prompts == []


def test_off_topic_is_declined_without_the_model(make_service: Callable[..., ChatService]) -> None:
    model = InstantChatModel()
    record = done(turn(make_service(model), "Quantum chromodynamics lecture schedule"))
    assert record["mode"] == "abstained" and record["sources"] == []
    assert model.prompts == []


def test_a_generated_answer_streams_and_is_cached(make_service: Callable[..., ChatService]) -> None:
    model = InstantChatModel("Within 30 days [1].")
    service = make_service(model, answer_mode="generate")
    events = turn(service, RETURNS)
    assert [e.kind for e in events][0] == "sources" and events[-1].kind == "done"
    first = done(events)
    assert first["mode"] == "generated" and first["answer"] == "Within 30 days [1]."
    again = done(turn(service, RETURNS.lower()))
    assert again["cached"] is True and len(model.prompts) == 1


def test_a_failing_model_falls_back_with_the_faq_text(
    make_service: Callable[..., ChatService],
) -> None:
    model = InstantChatModel()
    model.enqueue(ModelError("down"))
    record = done(turn(make_service(model, answer_mode="generate"), RETURNS))
    assert record["mode"] == "fallback" and "30 days" in record["answer"]


def test_an_invented_number_is_never_shown(make_service: Callable[..., ChatService]) -> None:
    model = InstantChatModel("You get a 90% refund [1].")
    events = turn(make_service(model, answer_mode="generate"), RETURNS)
    shown = " ".join(str(e.data.get("text", "")) for e in events if e.kind != "done")
    assert "90" not in shown  # refused before a customer could see it
    record = done(events)
    assert record["mode"] == "fallback" and "30 days" in record["answer"]


def test_a_good_sentence_shown_then_a_bad_one_is_replaced(
    make_service: Callable[..., ChatService],
) -> None:
    model = InstantChatModel("You have 30 days to return items. Shipping back costs 90 euros.")
    events = turn(make_service(model, answer_mode="generate"), RETURNS)
    kinds = [e.kind for e in events]
    assert kinds.index("token") < kinds.index("replace")
    assert events[kinds.index("token")].data["text"] == "You have 30 days to return items [1]."
    record = done(events)
    assert record["mode"] == "fallback" and "90" not in record["answer"]


def test_a_repeating_model_is_stopped(make_service: Callable[..., ChatService]) -> None:
    model = InstantChatModel("Returns take 30 days. Returns take 30 days. Returns take 30 days.")
    record = done(turn(make_service(model, answer_mode="generate"), RETURNS))
    assert record["mode"] == "fallback"


def test_a_follow_up_sees_the_turn_before_it(make_service: Callable[..., ChatService]) -> None:
    model = InstantChatModel("Answer [1].")
    service = make_service(model, answer_mode="generate")
    session = done(turn(service, "How much does shipping cost?"))["session_id"]
    follow = done(turn(service, "and what are the delivery fees?", session))
    assert follow["session_id"] == session
    assert "Customer: How much does shipping cost?" in model.prompts[-1][1].content


def test_an_unknown_session_id_gets_a_new_one(make_service: Callable[..., ChatService]) -> None:
    record = done(turn(make_service(), RETURNS, "chosen-by-client"))
    assert record["session_id"] != "chosen-by-client" and len(record["session_id"]) == 32


def test_a_down_history_store_does_not_stop_answers(
    make_service: Callable[..., ChatService],
) -> None:
    service = make_service(canonical_threshold=0.3)
    store = PARTS[id(service)][0]
    store.down = True
    record = done(turn(service, RETURNS, "a" * 32))
    assert record["mode"] == "canonical"


def test_choose_mode(retriever: Retriever) -> None:
    result = retriever.search(RETURNS)
    assert choose_mode(result, ChatSettings(answer_mode="generate")) == "generated"
    certain = ChatSettings(answer_mode="canonical_first", canonical_threshold=0.0)
    assert choose_mode(result, certain) == "canonical"
    # Not clearly ahead of the second entry: never the entry verbatim.
    unsure = ChatSettings(answer_mode="canonical_first", canonical_margin=5.0)
    assert choose_mode(result, unsure) == "extractive"
    unsure = ChatSettings(answer_mode="hybrid", canonical_threshold=0.0, canonical_margin=5.0)
    assert choose_mode(result, unsure) == "generated"
    hybrid = ChatSettings(answer_mode="hybrid", canonical_threshold=0.0)
    assert choose_mode(result, hybrid) == "canonical"
    hybrid = ChatSettings(answer_mode="hybrid", canonical_threshold=1.0)
    assert choose_mode(result, hybrid) == "generated"
    assert choose_mode(result, ChatSettings(answer_mode="extractive")) == "extractive"
    off = retriever.search("Quantum chromodynamics lecture schedule")
    assert choose_mode(off, ChatSettings(answer_mode="canonical_first")) == "abstained"


def test_admission_never_exceeds_what_the_model_runs_at_once(retriever: Retriever) -> None:
    from tests.fakes.slow_model import GatedChatModel

    settings = Settings(llm={"max_concurrent": 4})
    one_at_a_time = generation_limiter(GatedChatModel(), settings.llm)
    assert one_at_a_time.max_concurrent == 1
    server_decides = generation_limiter(InstantChatModel(), settings.llm)
    assert server_decides.max_concurrent == 4


def test_a_new_question_does_not_get_the_last_topics_answer(
    make_service: Callable[..., ChatService],
) -> None:
    model = InstantChatModel("Answer [1].")
    service = make_service(model, answer_mode="generate")
    session = done(turn(service, RETURNS))["session_id"]
    off = done(turn(service, "Quantum chromodynamics lecture schedule tomorrow", session))
    assert off["mode"] == "abstained"


def test_auto_answers_from_the_faq_with_the_embedded_model_and_words_with_a_served_one() -> None:
    from service.chat.modes import resolve_answer_mode
    from service.config import LLMSettings

    auto = ChatSettings()
    assert resolve_answer_mode(auto, LLMSettings(provider="llamacpp")) == "canonical_first"
    assert resolve_answer_mode(auto, LLMSettings(provider="ollama")) == "hybrid"
    chosen = ChatSettings(answer_mode="generate")
    assert resolve_answer_mode(chosen, LLMSettings(provider="llamacpp")) == "generate"


def test_extractive_answers_keep_the_sentences_that_answer(retriever: Retriever) -> None:
    from service.chat.extractive import extract

    text = (
        "Standard shipping takes 2 to 4 days. Express shipping costs 9.95 euros. "
        "We ship to Norway and Switzerland. Parcels are carbon neutral."
    )
    got = extract("how much is express shipping", text, retriever.embed_queries, 1)
    assert got == "Express shipping costs 9.95 euros."
    assert extract("anything", "One sentence. Two.", retriever.embed_queries) == (
        "One sentence. Two."
    )


def test_a_search_without_an_entry_reuses_the_querys_embedding(retriever: Retriever) -> None:
    first = retriever.search("How much does shipping cost?")
    assert first.top is not None
    gone = frozenset({first.top.entry_id})
    again = retriever.search_without(first, gone)
    fresh = retriever.search("How much does shipping cost?", exclude=gone)
    assert [h.entry_id for h in again.hits] == [h.entry_id for h in fresh.hits]
    assert again.confidence == pytest.approx(fresh.confidence)
    assert first.top.entry_id not in [h.entry_id for h in again.hits]
    assert again.query_vector is first.query_vector  # not embedded again
