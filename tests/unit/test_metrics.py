from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.retrieval.evaluation import (
    Outcome,
    QueryFileError,
    by_language,
    load_queries,
    summarize,
    sweep,
)


def outcomes() -> list[Outcome]:
    return [
        Outcome("a", ("a", "b", "c"), 0.9),  # rank 1, answered
        Outcome("b", ("a", "b", "c"), 0.8),  # rank 2
        Outcome("c", ("c", "a"), 0.2),  # rank 1 but below threshold
        Outcome("d", ("a", "b"), 0.7),  # not retrieved
        Outcome(None, ("a",), 0.1),  # out of scope, declined
        Outcome(None, ("b",), 0.6),  # out of scope, answered (wrong)
    ]


def test_summary_on_known_outcomes() -> None:
    m = summarize(outcomes(), threshold=0.5)
    assert m.n_queries == 6 and m.n_in_scope == 4 and m.n_out_of_scope == 2
    assert m.recall_at_1 == pytest.approx(2 / 4)
    assert m.recall_at_5 == pytest.approx(3 / 4)
    assert m.mrr == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert m.in_scope_accuracy == pytest.approx(1 / 4)  # only "a" is right and answered
    assert m.oos_recall == pytest.approx(1 / 2)
    assert m.abstention_accuracy == pytest.approx((1 + 1) / 6)


def test_without_out_of_scope_queries_those_metrics_are_null() -> None:
    m = summarize([o for o in outcomes() if o.faq_id], threshold=0.5)
    assert m.in_scope_accuracy is None and m.oos_recall is None


def test_sweep_moves_the_trade_off() -> None:
    rows = {r["threshold"]: r for r in sweep(outcomes(), [0.0, 0.5, 1.0])}
    assert rows[0.0]["in_scope_accuracy"] == pytest.approx(2 / 4)
    assert rows[0.0]["oos_recall"] == pytest.approx(0.0)
    assert rows[0.5]["oos_recall"] == pytest.approx(0.5)
    assert rows[1.0]["in_scope_accuracy"] == pytest.approx(0.0)
    assert rows[1.0]["oos_recall"] == pytest.approx(1.0)


def test_query_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({"query": "ok", "faq_id": "a"})
        + "\n"
        + "nope\n"
        + json.dumps({"query": "x", "faq_id": "zzz"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(QueryFileError) as err:
        load_queries(path, known_ids={"a"})
    assert str(err.value).splitlines() == [
        f"{path}:2: invalid JSON: Expecting value",
        f'{path}:3: faq_id "zzz" is not an entry of the index',
    ]


def test_misses_lists_every_wrong_outcome_most_confident_first() -> None:
    from service.retrieval.evaluation import misses

    outcomes = [
        Outcome("a", ("a", "b"), 0.9, "right", (1.0, 0.5)),
        Outcome("a", ("b", "a"), 0.8, "wrong entry", (1.0, 0.9)),
        Outcome("a", ("a",), 0.2, "declined", (0.3,)),
        Outcome(None, ("c",), 0.95, "off topic", (1.2,)),
        Outcome(None, ("c",), 0.1, "declined off topic", (0.2,)),
    ]
    rows = misses(outcomes, 0.5)
    assert [r["kind"] for r in rows] == [
        "answered out of scope",
        "wrong entry",
        "declined in scope",
    ]
    assert rows[1]["expected"] == "a" and rows[1]["returned"] == "b"
    assert rows[1]["candidates"] == [{"id": "b", "score": 1.0}, {"id": "a", "score": 0.9}]


def test_figures_per_labelled_language_use_each_paths_own_decision() -> None:
    rows = [
        Outcome("a", ("a",), 0.9, "q1", lang="en"),
        Outcome(None, ("a",), 0.2, "q2", lang="en"),
        # the cross-lingual path decided for itself: its decision counts, not 0.5
        Outcome("a", ("a",), 0.4, "q3", lang="de", declined=False),
        Outcome(None, ("a",), 0.8, "q4", lang="de", declined=True),
        Outcome("b", ("a",), 0.9, "q5", lang="de", declined=False),
    ]
    figures = by_language(rows, threshold=0.5)
    assert set(figures) == {"de", "en"}
    assert figures["de"].recall_at_1 == 0.5 and figures["de"].in_scope_accuracy == 0.5
    assert figures["de"].oos_recall == 1.0
    assert figures["en"].in_scope_accuracy == 1.0 and figures["en"].oos_recall == 1.0
    assert by_language([Outcome("a", ("a",), 0.9)], 0.5) == {}


def test_a_query_files_lang_must_be_a_string(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "hallo", "faq_id": null, "lang": 7}\n', encoding="utf-8")
    with pytest.raises(QueryFileError, match="q.jsonl:1: lang must be a string"):
        load_queries(path)
    path.write_text('{"query": "hallo", "faq_id": null, "lang": "de"}\n', encoding="utf-8")
    assert load_queries(path)[0].lang == "de"
