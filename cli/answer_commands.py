"""`faqbot eval --answers`: the answers customers would read, scored (see
service/chat/answer_eval.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cli.common import EXIT_OK, EXIT_REFUSED, err, say, settings_for
from service.config import Settings


def evaluate_answers(args: argparse.Namespace) -> int:
    from ingest.evaluate import temporary_index
    from ingest.pipeline import IngestError
    from service.retrieval.components import build_embedder
    from service.retrieval.evaluation import QueryFileError, load_queries

    settings = _settings(args)
    try:
        with temporary_index(Path(args.faqs), settings, build_embedder(settings), log=say) as r:
            queries = load_queries(Path(args.queries), known_ids=set(r.manifest.entries))
            if args.limit:  # an even sample across the file, the same every run
                step = max(1, len(queries) // args.limit)
                queries = queries[::step][: args.limit]
            entries = {i: e.answer for i, e in r.manifest.entries.items()}
            scores = asyncio.run(_run(settings, r, [(q.query, q.faq_id) for q in queries], entries))
    except (IngestError, QueryFileError) as exc:
        err(f"eval --answers: {exc}")
        return EXIT_REFUSED
    report = _report(scores, settings)
    out = Path(args.out) if args.out else Path("var/eval") / Path(args.queries).parent.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report["overall"]) if args.json else _table(report, out))
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    settings = settings_for(args)
    chat = {"cache_size": 0, "grounding_guard": not args.no_guard}
    if args.answer_mode:
        chat["answer_mode"] = args.answer_mode
    return settings.model_copy(update={"chat": settings.chat.model_copy(update=chat)})


async def _run(
    settings: Settings, retriever: Any, queries: list[tuple[str, str | None]], entries: Any
) -> Any:
    from service.chat.answer_eval import run_answers
    from service.chat.history import HistoryWriter
    from service.chat.memory_store import MemoryChatStore
    from service.chat.service import ChatService
    from service.llm.factory import make_chat_model

    model = make_chat_model(settings.llm)
    store = MemoryChatStore()
    history = HistoryWriter(store)
    service = ChatService(settings, lambda: retriever, model, store, history=history)
    try:
        return await run_answers(service, queries, entries)
    finally:
        await history.drain(1.0)
        await model.close()


def _report(scores: Any, settings: Settings) -> dict[str, Any]:
    from service.chat.answer_eval import per_mode, summarize_scores, worst

    return {
        "answer_mode": settings.chat.answer_mode,
        "grounding_guard": settings.chat.grounding_guard,
        "model": settings.llm.provider,
        "overall": asdict(summarize_scores(scores)),
        "by_mode": {m: asdict(s) for m, s in per_mode(scores).items()},
        "worst": worst(scores),
        "answers": [asdict(s) for s in scores],
    }


def _table(report: dict[str, Any], out: Path) -> str:
    def pct(x: float | None) -> str:
        return "  n/a" if x is None else f"{x:5.3f}"

    guard = "on" if report["grounding_guard"] else "OFF"
    lines = [
        f"answer mode {report['answer_mode']}, guard {guard}, model {report['model']}",
        f"{'mode':<11}{'n':>5}{'unsupp.':>9}{'degen.':>8}{'recall':>8}{'cites':>7}"
        f"{'words':>7}{'p50 ms':>8}",
    ]
    for mode, s in [*report["by_mode"].items(), ("ALL", report["overall"])]:
        lines.append(
            f"{mode:<11}{s['n']:>5}{s['unsupported_answers']:>9}{s['degenerate_answers']:>8}"
            f"{pct(s['key_fact_recall']):>8}{pct(s['citation_accuracy']):>7}"
            f"{s['mean_words']:>7.1f}{s['p50_ms']:>8.0f}"
        )
    for w in report["worst"]:
        problems = ", ".join([*w["unsupported"], *w["degenerate"]]) or "low key-fact recall"
        lines.append(f"  worst: [{w['mode']}] {w['query'][:60]!r}: {problems}")
    lines.append(f"details: {out / 'answers.json'}")
    return "\n".join(lines)
