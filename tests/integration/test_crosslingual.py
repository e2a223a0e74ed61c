"""Customers writing German, French, Spanish, Italian or Dutch: the real multilingual
encoder (USE multilingual v3), the real language detector, ingest and the chat API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.pipeline import IngestPipeline
from service.config import Settings
from service.retrieval.crosslingual import CROSSLINGUAL_FILE, CrossLingualIndex, UseEmbedder
from service.retrieval.embedder import OnnxEmbedder
from service.retrieval.retriever import Retriever
from service.retrieval.store import IndexStore
from service.retrieval.vector_index import make_vector_backend
from tests.fakes.instant_model import InstantChatModel

pytestmark = pytest.mark.integration

GERMAN_RETURNS = """---
category: Rückgabe
---

## Wie lange habe ich Zeit, einen Artikel zurückzugeben? {#returns-window}
Du kannst ungetragene Artikel innerhalb von 30 Tagen nach Lieferung zurückgeben.

Auch gefragt:
- wie viele Tage habe ich für eine Rücksendung
"""
GERMAN_DECLINES = "- Verkauft ihr Fahrräder?\n- Erzähl mir einen Witz\n"


@pytest.fixture(scope="session")
def use_encoder() -> UseEmbedder:
    return UseEmbedder()


@pytest.fixture
def translated_faq(faq_dir: Path) -> Path:
    (faq_dir / "de").mkdir()
    (faq_dir / "de" / "returns.md").write_text(GERMAN_RETURNS, encoding="utf-8")
    (faq_dir / "de" / "decline_examples.md").write_text(GERMAN_DECLINES, encoding="utf-8")
    return faq_dir


def pipeline(
    settings: Settings, embedder: OnnxEmbedder, encoder: UseEmbedder | None
) -> IngestPipeline:
    return IngestPipeline(
        settings,
        embedder,
        make_vector_backend(settings.index, embedder),
        IndexStore(settings.index.path),
        log=lambda _: None,
        multilingual=encoder,
    )


def open_retriever(
    settings: Settings, embedder: OnnxEmbedder, encoder: UseEmbedder | None
) -> Retriever:
    store = IndexStore(settings.index.path)
    backend = make_vector_backend(settings.index, embedder)
    return Retriever.open(store, backend, embedder, settings.retrieval, multilingual=encoder)


def test_other_languages_find_the_entries_in_their_translation_or_in_english(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    report = pipeline(settings, embedder, use_encoder).run([translated_faq])
    assert any("de: 4 of 5 entries have no translation" in w for w in report.warnings)
    retriever = open_retriever(settings, embedder, use_encoder)
    assert retriever.languages == ("en", "de", "fr", "es", "it", "nl")

    german = retriever.search("Wie viele Tage habe ich, um etwas zurückzuschicken?", lang="de")
    assert not german.abstain and german.top is not None
    assert german.top.entry_id == "returns-window" and german.top.lang == "de"
    assert "innerhalb von 30 Tagen" in german.top.answer

    french = retriever.search("Est-ce que je peux payer avec PayPal ?", lang="fr")
    assert not french.abstain and french.top is not None
    assert french.top.entry_id == "payment-methods" and french.top.lang == "en"
    assert "PayPal" in french.top.answer

    off_topic = retriever.search("Wer hat die Fußballweltmeisterschaft 2014 gewonnen?", lang="de")
    assert off_topic.abstain


def test_english_retrieval_is_the_same_with_or_without_the_encoder(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    pipeline(settings, embedder, use_encoder).run([translated_faq])
    with_encoder = open_retriever(settings, embedder, use_encoder)
    without = open_retriever(settings, embedder, None)
    assert without.languages == ("en",)
    for question in (
        "how many days to return a jacket?",
        "do you ship to norway?",
        "tell me a joke",
    ):
        a, b = with_encoder.search(question), without.search(question)
        assert [h.entry_id for h in a.hits] == [h.entry_id for h in b.hits]
        assert a.confidence == pytest.approx(b.confidence) and a.abstain == b.abstain
    # a German question without the encoder is searched as English (and not well)
    assert without.search("Wie viele Tage habe ich?", lang="de").lang == "en"


def test_a_changed_translation_alone_publishes_a_version_without_reembedding(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    first = pipeline(settings, embedder, use_encoder).run([translated_faq])
    assert pipeline(settings, embedder, use_encoder).run([translated_faq]).published is False
    path = translated_faq / "de" / "returns.md"
    path.write_text(path.read_text().replace("30 Tagen", "45 Tagen"), encoding="utf-8")
    again = pipeline(settings, embedder, use_encoder).run([translated_faq])
    assert again.published and again.plan.languages_changed
    assert again.embedded_texts == 0  # the English vectors were all reused
    assert again.version != first.version
    hit = (
        open_retriever(settings, embedder, use_encoder)
        .search("Wie lange kann ich etwas zurückgeben?", lang="de")
        .top
    )
    assert hit is not None and "45 Tagen" in hit.answer


def test_the_index_file_round_trips(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    report = pipeline(settings, embedder, use_encoder).run([translated_faq])
    assert report.version is not None
    path = IndexStore(settings.index.path).version_dir(report.version) / CROSSLINGUAL_FILE
    index = CrossLingualIndex.load(path)
    # too few translations and declines to calibrate on: the documented defaults
    assert "default weight" in index.method and "default threshold" in index.method
    copy = path.with_name("copy.npz")
    index.save(copy)
    again = CrossLingualIndex.load(copy)
    assert again.entry_ids == index.entry_ids and again.threshold == index.threshold
    assert (again.questions.vectors == index.questions.vectors).all()
    # the classifier over the encoder's vectors travels with it
    assert index.classifier is not None and again.classifier_weight == 1.0
    query = index.questions.vectors[0]
    assert (again.score(query).ranking == index.score(query).ranking).all()


def test_the_classifier_adds_its_weighted_probability_to_the_ranking_only(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    pipeline(settings, embedder, use_encoder).run([translated_faq])
    retriever = open_retriever(settings, embedder, use_encoder)
    question = "Kann ich mit PayPal bezahlen?"
    found = retriever.search(question, lang="de")
    scored = retriever._crosslingual.index.score(use_encoder.embed([question])[0])  # type: ignore[union-attr]
    assert scored.ranking == pytest.approx(scored.scores + scored.classifier, abs=1e-5)
    assert found.top is not None and found.top.entry_id == "payment-methods"
    assert found.top.classifier > 0.2  # shown in the answer's trace
    assert [h.score for h in found.hits] == sorted((h.score for h in found.hits), reverse=True)
    # the threshold reads the cosine score, without the classifier's share
    top = retriever._crosslingual.index.entry_ids.index("payment-methods")  # type: ignore[union-attr]
    assert found.confidence == pytest.approx(float(scored.scores[top]))

    # weight 0: no classifier is fitted, and changing the weight publishes a new version
    off = settings.model_copy(
        update={"languages": settings.languages.model_copy(update={"classifier_weight": 0.0})}
    )
    report = pipeline(off, embedder, use_encoder).run([translated_faq])
    assert report.published and report.embedded_texts == 0
    index = open_retriever(off, embedder, use_encoder)._crosslingual.index  # type: ignore[union-attr]
    assert index.classifier is None and index.classifier_weight == 0.0
    plain = index.score(use_encoder.embed([question])[0])
    assert (plain.ranking == plain.scores).all() and not plain.classifier.any()


@pytest.fixture
def client(
    chat_settings: Settings,
    embedder: OnnxEmbedder,
    use_encoder: UseEmbedder,
    translated_faq: Path,
) -> Iterator[TestClient]:
    from service.app import create_app
    from service.retrieval.live import LiveRetriever
    from tests.integration.shop import seed_two_customers

    seed_two_customers(chat_settings.db.url)
    pipeline(chat_settings, embedder, use_encoder).run([translated_faq])
    store = IndexStore(chat_settings.index.path)
    live = LiveRetriever(store, lambda _: open_retriever(chat_settings, embedder, use_encoder))
    with TestClient(
        create_app(chat_settings, model=InstantChatModel(), retriever=live.current)
    ) as c:
        yield c


def say(client: TestClient, message: str, **extra: object) -> dict[str, object]:
    headers = extra.pop("headers", None)
    r = client.post("/v1/chat", json={"message": message, **extra}, headers=headers)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_customers_are_answered_in_their_language_where_the_faq_has_it(client: TestClient) -> None:
    german = say(client, "Wie viele Tage habe ich, um etwas zurückzuschicken?")
    assert german["lang"] == "de" and german["mode"] == "canonical"
    assert str(german["answer"]).startswith("Du kannst ungetragene Artikel")

    french = say(client, "Est-ce que je peux payer avec PayPal ?")
    assert french["lang"] == "fr"
    # no French translation: the English text, introduced in French
    assert str(french["answer"]).startswith("Cette réponse n'existe pour l'instant qu'en anglais")
    assert "PayPal" in str(french["answer"])

    declined = say(client, "Qual è la capitale dell'Australia?")
    assert declined["lang"] == "it" and declined["mode"] == "abstained"
    assert str(declined["answer"]).startswith("Mi dispiace")

    english = say(client, "how many days do I have to return an item?")
    assert english["lang"] == "en" and "30 days" in str(english["answer"])


def test_short_messages_take_the_conversations_then_the_pages_language(client: TestClient) -> None:
    first = say(client, "Kann ich mit PayPal bezahlen, oder nur mit Karte?")
    assert first["lang"] == "de"
    short = say(client, "PayPal?", session_id=first["session_id"])
    assert short["lang"] == "de"
    hinted = say(client, "PayPal?", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert hinted["lang"] == "nl"
    assert say(client, "PayPal?", lang="es")["lang"] == "es"
    assert client.post("/v1/chat", json={"message": "x", "lang": "<script>"}).status_code == 422


def test_the_order_flow_answers_in_the_customers_language(client: TestClient) -> None:
    reply = say(client, "Wo ist meine Bestellung NW-200001? Ich warte schon lange darauf.")
    assert reply["mode"] == "order" and reply["lang"] == "de"
    assert "E-Mail-Adresse" in str(reply["answer"])
    # the email alone says nothing about the language: the conversation's holds
    facts = say(client, "alice@example.com", session_id=reply["session_id"])
    assert facts["lang"] == "de"
    answer = str(facts["answer"])
    assert answer.startswith("Bestellung NW-200001 (bestellt am")
    assert "versandt" in answer and "003404341111" in answer and "Fjord rain jacket" in answer
    wrong = say(client, "Bestellung NW-200002, meine E-Mail ist alice@example.com")
    assert wrong["lang"] == "de" and "konnte diese Angaben nicht bestätigen" in str(wrong["answer"])


def test_the_gate_holds_each_labelled_language_to_the_minimum(
    settings: Settings,
    embedder: OnnxEmbedder,
    use_encoder: UseEmbedder,
    translated_faq: Path,
    tmp_path: Path,
) -> None:
    from ingest.pipeline import IngestError

    gate = tmp_path / "gate.jsonl"
    rows = [
        ("how many days do I have to return an item?", "returns-window", "en"),
        ("do you ship to norway?", "shipping-countries", "en"),
        ("Wie viele Tage habe ich für eine Rücksendung?", "returns-window", "de"),
        ("Liefert ihr auch nach Norwegen?", "shipping-countries", "de"),
        ("Kann ich mit PayPal bezahlen?", "payment-methods", "de"),
    ]
    gate.write_text(
        "".join(
            json.dumps({"query": q, "faq_id": f, "lang": lang}, ensure_ascii=False) + "\n"
            for q, f, lang in rows
        ),
        encoding="utf-8",
    )
    # without the encoder German questions go the English way, and German fails
    with pytest.raises(IngestError) as refused:
        pipeline(settings, embedder, None).run([translated_faq], gate_questions=gate)
    assert any(line.startswith("de: recall@1") for line in refused.value.lines)
    assert not any(line.startswith("en: ") for line in refused.value.lines)
    report = pipeline(settings, embedder, use_encoder).run([translated_faq], gate_questions=gate)
    assert report.published and report.gate is not None


def test_a_close_call_in_another_language_also_offers_the_next_entries(
    client: TestClient,
) -> None:
    # Returns cost nothing here, and the returns and shipping-cost entries are both
    # close: the answer comes with the next entries to choose from
    close = say(client, "Was kostet das Zurückschicken?")
    assert close["mode"] == "canonical"
    offered = [s["id"] for s in close["suggestions"]]  # type: ignore[union-attr]
    answered = close["sources"][0]["id"]  # type: ignore[index]
    assert len(offered) == 2 and answered not in offered
    assert {"returns-window", "shipping-cost"} <= {answered, *offered}
    clear = say(client, "Wie viele Tage habe ich für eine Rücksendung?")
    assert clear["mode"] == "canonical" and clear["suggestions"] == []


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, inner: UseEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.model_id = inner.model_id
        self.dimension = inner.dimension

    def embed(self, texts: Any, *, progress: Any = None) -> Any:
        self.texts.extend(texts)
        return self.inner.embed(texts, progress=progress)


def test_an_edit_embeds_only_its_own_texts_again(
    settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    counting = CountingEncoder(use_encoder)
    pipeline(settings, embedder, counting).run([translated_faq])  # type: ignore[arg-type]
    first = len(counting.texts)
    path = translated_faq / "de" / "returns.md"
    path.write_text(path.read_text().replace("30 Tagen", "45 Tagen"), encoding="utf-8")
    assert pipeline(settings, embedder, counting).run([translated_faq]).published  # type: ignore[arg-type]
    again = counting.texts[first:]
    assert again and all("45 Tagen" in t for t in again)  # only the edited answer's text
    hit = (
        open_retriever(settings, embedder, use_encoder)
        .search("Wie lange kann ich etwas zurückgeben?", lang="de")
        .top
    )
    assert hit is not None and "45 Tagen" in hit.answer


def test_the_language_parts_are_loaded_before_the_first_customer(
    chat_settings: Settings, embedder: OnnxEmbedder, use_encoder: UseEmbedder, translated_faq: Path
) -> None:
    """The detector's models and the multilingual encoder load at start (about 300 MB
    together): not in the first customers' answers, and not as memory that grows under
    the first minutes of traffic."""
    from service.app import create_app
    from service.retrieval.live import LiveRetriever

    pipeline(chat_settings, embedder, use_encoder).run([translated_faq])
    store = IndexStore(chat_settings.index.path)
    fresh = UseEmbedder()
    live = LiveRetriever(store, lambda _: open_retriever(chat_settings, embedder, fresh))
    assert fresh._model is None
    with TestClient(create_app(chat_settings, model=InstantChatModel(), retriever=live)) as c:
        assert fresh._model is not None
        assert c.app.state.language.detector._detector is not None  # type: ignore[attr-defined]
