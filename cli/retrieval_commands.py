"""`faqbot ask` (one question, ranked with its scores) and `faqbot eval` (a labelled set)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, err, say, settings_for


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("ask", help="show ranked entries, scores and the abstain decision")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=ask)

    p = sub.add_parser("eval", help="measure retrieval on a labelled set")
    p.add_argument(
        "--faqs", required=True, help="FAQ entries: a markdown folder, .md, .jsonl or .csv"
    )
    p.add_argument("--queries", help='labelled queries: JSONL {"query", "faq_id"}')
    p.add_argument(
        "--conversations",
        help='conversations to replay: JSONL {"id", "turns": [{"message", "expect"}]}, '
        "expect an entry id, decline, order, handoff or smalltalk (see docs/retrieval.md)",
    )
    p.add_argument(
        "--declines",
        help='questions to decline, learnt from and calibrated on: JSONL {"query"} or a '
        "markdown list (a decline*.md/.jsonl file inside --faqs is used anyway)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", help="folder for threshold_sweep.csv/.png (default var/eval/<set>)")
    p.add_argument(
        "--threshold",
        type=float,
        help="abstain threshold to report at (default: configured, else calibrated at ingest)",
    )
    p.add_argument(
        "--answers",
        action="store_true",
        help="score the answers themselves (the configured model answers every question)",
    )
    p.add_argument("--answer-mode", choices=["generate", "canonical_first", "hybrid", "extractive"])
    p.add_argument("--no-guard", action="store_true", help="with --answers: the guard off")
    p.add_argument("--limit", type=int, help="with --answers: an even sample of N questions")
    p.set_defaults(func=evaluate)


def ask(args: argparse.Namespace) -> int:
    from service.retrieval.components import open_retriever
    from service.retrieval.store import IndexStoreError

    if not args.question.strip():
        err("ask: the question is empty")
        return EXIT_USAGE
    try:
        retriever = open_retriever(settings_for(args))
    except IndexStoreError as exc:
        err(f"ask: {exc}")
        return EXIT_REFUSED
    # One warm-up search first, so the timings show a served query, not model loading.
    retriever.search("warm up")
    result = retriever.search(args.question, top_k=args.top_k)
    print(json.dumps(_as_json(result)) if args.json else _as_table(result))
    return EXIT_OK


def _as_json(result: Any) -> dict[str, Any]:
    return {
        "query": result.query,
        "version": result.version,
        "confidence": round(result.confidence, 4),
        "threshold": result.threshold,
        "abstain": result.abstain,
        "hits": [
            {
                "id": h.entry_id,
                "title": h.title,
                "score": round(h.score, 4),
                "question_sim": round(h.question_similarity, 4),
                "chunk_sim": round(h.chunk_similarity, 4),
                "classifier": round(h.classifier, 4),
                "lexical": round(h.lexical, 4),
            }
            for h in result.hits
        ],
        "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()},
    }


def _as_table(result: Any) -> str:
    decision = "ABSTAIN (no good answer)" if result.abstain else "ANSWER"
    lines = [
        f"index {result.version}  confidence {result.confidence:.3f}  threshold "
        f"{result.threshold:.3f}  -> {decision}",
        f"{'#':>2} {'score':>6} {'q-sim':>6} {'chunk':>6} {'clf':>6} {'bm25':>5}  entry",
    ]
    for n, h in enumerate(result.hits, start=1):
        lines.append(
            f"{n:>2} {h.score:6.3f} {h.question_similarity:6.3f} {h.chunk_similarity:6.3f} "
            f"{h.classifier:6.3f} {h.lexical:5.2f}  {h.entry_id}: {h.title}"
        )
    t = result.timings_ms
    lines.append(
        f"timings: embed {t['embed']:.1f} ms, vector {t['vector']:.1f} ms, "
        f"fuse {t['fuse']:.1f} ms, total {t['total']:.1f} ms"
    )
    return "\n".join(lines)


def evaluate(args: argparse.Namespace) -> int:
    from ingest.evaluate import evaluate_files
    from ingest.pipeline import IngestError
    from ingest.progress import Progress
    from service.retrieval.evaluation import QueryFileError

    for p in (args.faqs, args.queries, args.declines, args.conversations):
        if p is not None and not Path(p).exists():
            err(f"eval: {p}: no such file or folder")
            return EXIT_USAGE
    if args.conversations:
        from cli.conversations import evaluate_conversations

        return evaluate_conversations(args)
    if not args.queries:
        err("eval: give --queries (labelled questions) or --conversations")
        return EXIT_USAGE
    if args.answers:
        from cli.answer_commands import evaluate_answers

        return evaluate_answers(args)
    settings = settings_for(args)
    if args.threshold is not None:
        settings.retrieval.abstain_threshold = args.threshold
    out_dir = Path(args.out) if args.out else Path("var/eval") / Path(args.queries).parent.name
    try:
        result = evaluate_files(
            Path(args.faqs),
            Path(args.queries),
            settings,
            out_dir,
            progress=lambda total, label: Progress(total, label),
            log=say,
            declines=Path(args.declines) if args.declines else None,
        )
    except (IngestError, QueryFileError) as exc:
        for line in getattr(exc, "lines", []):
            say(f"  {line}")
        err(f"eval: {exc}")
        return EXIT_REFUSED
    print(json.dumps(_metrics_json(result)) if args.json else _metrics_text(result))
    return EXIT_OK


def _metrics_json(result: Any) -> dict[str, Any]:
    m = result.metrics
    return {
        "recall_at_1": m.recall_at_1,
        "recall_at_5": m.recall_at_5,
        "mrr": m.mrr,
        "in_scope_accuracy": m.in_scope_accuracy,
        "oos_recall": m.oos_recall,
        "n_queries": m.n_queries,
        "threshold": m.threshold,
        "canonical_precision": m.canonical_precision,
        "canonical_share": m.canonical_share,
        "calibration": result.calibration.to_dict(),
        "sweep_csv": str(result.sweep_csv),
        "sweep_png": str(result.sweep_png) if result.sweep_png else None,
        "suggestions": asdict(result.suggestions),
        "suggestion_csv": str(result.suggestion_csv),
        "misses": len(result.misses),
        "misses_jsonl": str(result.misses_path),
        "crosslingual": result.crosslingual or None,
        "by_language": {
            lang: {
                "recall_at_1": lm.recall_at_1,
                "mrr": lm.mrr,
                "in_scope_accuracy": lm.in_scope_accuracy,
                "oos_recall": lm.oos_recall,
                "n_queries": lm.n_queries,
                "canonical_precision": lm.canonical_precision,
            }
            for lang, lm in result.by_language.items()
        },
    }


def _metrics_text(result: Any) -> str:
    m = result.metrics

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    png = f", {result.sweep_png}" if result.sweep_png else ""
    return "\n".join(
        [
            f"queries: {m.n_queries} ({m.n_in_scope} in scope, {m.n_out_of_scope} out of scope)",
            f"recall@1 {fmt(m.recall_at_1)}  recall@5 {fmt(m.recall_at_5)}  MRR {fmt(m.mrr)}",
            f"at threshold {m.threshold:.3f}: in-scope accuracy {fmt(m.in_scope_accuracy)}, "
            f"out-of-scope recall {fmt(m.oos_recall)}",
            f"verbatim answers: {fmt(m.canonical_share)} of in-scope questions, "
            f"precision {fmt(m.canonical_precision)}",
            f"calibration: {result.calibration.describe()}",
            *([result.crosslingual] if result.crosslingual else []),
            *[
                f"  {lang}: {lm.n_queries} queries, recall@1 {fmt(lm.recall_at_1)}, "
                f"in-scope accuracy {fmt(lm.in_scope_accuracy)}, "
                f"out-of-scope recall {fmt(lm.oos_recall)}"
                for lang, lm in result.by_language.items()
            ],
            f"threshold sweep: {result.sweep_csv}{png}",
            _suggestions_text(result.suggestions),
            f"misses: {len(result.misses)} in {result.misses_path}; the five most confident:",
            *[
                f"  {m['confidence']:.3f} {m['kind']}: {str(m['query'])[:60]!r} "
                f"expected {m['expected'] or '(decline)'}, got {m['returned'] or '(declined)'}"
                for m in result.misses[:5]
            ],
        ]
    )


def _suggestions_text(s: Any) -> str:
    return (
        f"did you mean (floor {s.floor:.2f}): {s.right_offered} of {s.declined_in_scope} "
        f"declined in-scope questions offer the right entry; {s.oos_offered} of "
        f"{s.declined_out_of_scope} declined out-of-scope questions get suggestions"
    )
