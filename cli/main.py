"""The `faqbot` command: thin wrappers over library functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import Settings, load_settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
DEFAULT_FAQ_DIR = Path("data/faq")


def _err(message: str) -> None:
    print(f"faqbot: {message}", file=sys.stderr)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import IngestError, IngestPipeline
    from ingest.progress import Progress
    from service.retrieval.components import build_backend, build_embedder, build_store
    from service.retrieval.store import IndexStoreError

    settings = load_settings(args.config)
    store = build_store(settings)
    if args.rollback:
        if args.paths or args.dry_run or args.rebuild or args.gate:
            _err("ingest --rollback takes no paths or other options")
            return EXIT_USAGE
        try:
            with store.lock():
                old, new = store.rollback()
        except IndexStoreError as exc:
            _err(f"ingest --rollback: {exc}")
            return EXIT_REFUSED
        print(f"rolled back: {new} is live again (was {old})")
        return EXIT_OK
    embedder = build_embedder(settings)
    pipeline = IngestPipeline(
        settings,
        embedder,
        build_backend(settings, embedder),
        store,
        progress=lambda total, label: Progress(total, label),
        log=lambda line: print(line, file=sys.stderr),
    )
    paths = [Path(p) for p in args.paths] or [DEFAULT_FAQ_DIR]
    try:
        report = pipeline.run(
            paths,
            dry_run=args.dry_run,
            rebuild=args.rebuild,
            skip_invalid=args.skip_invalid,
            gate_questions=Path(args.gate) if args.gate else None,
        )
    except IngestError as exc:
        for line in exc.lines:
            print(f"  {line}", file=sys.stderr)
        _err(f"ingest: {exc}")
        return EXIT_REFUSED
    except IndexStoreError as exc:
        _err(f"ingest: {exc}")
        return EXIT_REFUSED
    for warning in report.warnings:
        print(f"  skipped: {warning}", file=sys.stderr)
    plan = report.plan
    prefix = "dry run, nothing written: " if args.dry_run else ""
    print(f"{prefix}{report.entries} entries from {report.files} file(s): {plan.summary()}")
    if args.dry_run and args.verbose:
        for label, ids in (
            ("added", plan.added),
            ("changed", plan.changed),
            ("removed", plan.removed),
        ):
            for entry_id in ids:
                print(f"  {label}: {entry_id}")
    if report.gate is not None:
        g = report.gate
        print(
            f"gate passed: recall@1 {g.recall_at_1:.3f}, abstention accuracy "
            f"{g.abstention_accuracy:.3f} over {g.n_queries} questions"
        )
    if report.published:
        print(
            f"published {report.version}: embedded {report.embedded_texts} texts, "
            f"reused {report.reused_vectors} vectors, {report.seconds:.1f}s"
        )
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stage_seconds.items())
        print(f"  stages: {stages}")
    elif not args.dry_run:
        print(f"nothing changed; the live index stays as it is ({report.seconds:.1f}s)")
    return EXIT_OK


def _cmd_ask(args: argparse.Namespace) -> int:
    from service.retrieval.components import open_retriever
    from service.retrieval.store import IndexStoreError

    if not args.question.strip():
        _err("ask: the question is empty")
        return EXIT_USAGE
    settings = load_settings(args.config)
    try:
        retriever = open_retriever(settings)
    except IndexStoreError as exc:
        _err(f"ask: {exc}")
        return EXIT_REFUSED
    # One warm-up search first, so the timings show a served query, not model loading.
    retriever.search("warm up")
    result = retriever.search(args.question, top_k=args.top_k)
    if args.json:
        print(
            json.dumps(
                {
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
            )
        )
        return EXIT_OK
    decision = "ABSTAIN (no good answer)" if result.abstain else "ANSWER"
    print(
        f"index {result.version}  confidence {result.confidence:.3f}  threshold "
        f"{result.threshold:.3f}  -> {decision}"
    )
    print(f"{'#':>2} {'score':>6} {'q-sim':>6} {'chunk':>6} {'clf':>6} {'bm25':>5}  entry")
    for n, h in enumerate(result.hits, start=1):
        print(
            f"{n:>2} {h.score:6.3f} {h.question_similarity:6.3f} {h.chunk_similarity:6.3f} "
            f"{h.classifier:6.3f} {h.lexical:5.2f}  {h.entry_id}: {h.title}"
        )
    t = result.timings_ms
    print(
        f"timings: embed {t['embed']:.1f} ms, vector {t['vector']:.1f} ms, "
        f"fuse {t['fuse']:.1f} ms, total {t['total']:.1f} ms"
    )
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace) -> int:
    from ingest.evaluate import evaluate_files
    from ingest.pipeline import IngestError
    from ingest.progress import Progress
    from service.retrieval.evaluation import QueryFileError

    settings = load_settings(args.config)
    if args.threshold is not None:
        settings.retrieval.abstain_threshold = args.threshold
    for p in (args.faqs, args.queries):
        if not Path(p).exists():
            _err(f"eval: {p}: no such file or folder")
            return EXIT_USAGE
    out_dir = Path(args.out) if args.out else Path("var/eval") / Path(args.queries).parent.name

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    try:
        result = evaluate_files(
            Path(args.faqs),
            Path(args.queries),
            settings,
            out_dir,
            progress=lambda total, label: Progress(total, label),
            log=log,
        )
    except (IngestError, QueryFileError) as exc:
        for line in getattr(exc, "lines", []):
            print(f"  {line}", file=sys.stderr)
        _err(f"eval: {exc}")
        return EXIT_REFUSED
    m = result.metrics
    if args.json:
        print(
            json.dumps(
                {
                    "recall_at_1": m.recall_at_1,
                    "recall_at_5": m.recall_at_5,
                    "mrr": m.mrr,
                    "in_scope_accuracy": m.in_scope_accuracy,
                    "oos_recall": m.oos_recall,
                    "n_queries": m.n_queries,
                    "threshold": m.threshold,
                    "sweep_csv": str(result.sweep_csv),
                    "sweep_png": str(result.sweep_png) if result.sweep_png else None,
                }
            )
        )
        return EXIT_OK

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    print(f"queries: {m.n_queries} ({m.n_in_scope} in scope, {m.n_out_of_scope} out of scope)")
    print(f"recall@1 {fmt(m.recall_at_1)}  recall@5 {fmt(m.recall_at_5)}  MRR {fmt(m.mrr)}")
    print(
        f"at threshold {m.threshold:.3f}: in-scope accuracy {fmt(m.in_scope_accuracy)}, "
        f"out-of-scope recall {fmt(m.oos_recall)}"
    )
    print(
        f"threshold sweep: {result.sweep_csv}"
        + (f", {result.sweep_png}" if result.sweep_png else "")
    )
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.server import uvicorn_config

    settings = load_settings(args.config)
    if args.upgrade_db:
        from service.db.migrations import upgrade

        upgrade(settings.db.url)
    uvicorn.Server(uvicorn_config(create_app(settings), settings, args.host, args.port)).run()
    return EXIT_OK


def _cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrations import downgrade, upgrade

    settings = load_settings(args.config)
    try:
        if args.action == "upgrade":
            upgrade(settings.db.url, args.revision or "head")
        elif args.action == "downgrade":
            downgrade(settings.db.url, args.revision or "-1")
        elif args.action == "purge":
            return _purge(settings, args.days)
        else:
            if not args.demo:
                _err("db seed: only demo data can be seeded (--demo)")
                return EXIT_USAGE
            from service.db.engine import make_engine
            from service.orders.seed import seed_demo

            url = settings.orders.db_url or settings.db.url
            engine = make_engine(url)
            try:
                n = seed_demo(engine, args.orders)
            except ValueError as exc:
                if args.if_empty:
                    print(f"db seed: skipped, {exc.args[0].split(';')[0]}")
                    return EXIT_OK
                _err(f"db seed: {exc}")
                return EXIT_REFUSED
            finally:
                engine.dispose()
            print(f"seeded {n} demo orders into {_masked(url)}")
            return EXIT_OK
    except SQLAlchemyError as exc:
        _err(f"db {args.action}: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}")
        return EXIT_REFUSED
    print(f"database {args.action} done ({_masked(settings.db.url)})")
    return EXIT_OK


def _purge(settings: Settings, days: int | None) -> int:
    """Deletes chat history, feedback and stale verification state past the retention."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from service.db.chat_store import SqlChatStore
    from service.db.engine import engine_for
    from service.db.guard import guard_for
    from service.orders.attempts import SqlAttemptCounter
    from service.orders.repository import OrderRepository

    keep = days or settings.db.retention_days
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=keep)
    timeout = 600.0  # a purge may delete many rows; it is not on anyone's answer path
    slow = settings.db.model_copy(update={"statement_timeout_s": timeout})
    engine = engine_for(settings.db.url, slow, timeout)
    try:
        store = SqlChatStore(engine, guard_for("purge", settings.db, timeout))
        removed = asyncio.run(store.purge(cutoff))
    finally:
        engine.dispose()
    order_engine = engine_for(settings.orders.db_url or settings.db.url, slow, timeout)
    windows = max(settings.orders.failure_window_minutes, settings.orders.address_window_minutes)
    try:
        stale = OrderRepository(order_engine).purge_access(now)
        stale += SqlAttemptCounter(order_engine, 0).purge(now - timedelta(minutes=windows), now)
    finally:
        order_engine.dispose()
    print(
        f"purged {removed} chat rows older than {keep} days and {stale} expired "
        "verification and attempt records"
    )
    return EXIT_OK


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faqbot", description=__doc__)
    parser.add_argument("--config", type=Path, help="YAML or JSON settings file (or FAQBOT_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="embed FAQ sources and publish a new index version")
    p.add_argument(
        "paths",
        nargs="*",
        help=f"markdown folders, .md, .jsonl or .csv files (default {DEFAULT_FAQ_DIR})",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the diff against the live index; write nothing",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="re-embed everything (needed after changing the embedding model)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="publish the valid entries even if some are broken",
    )
    p.add_argument(
        "--gate",
        metavar="QUESTIONS",
        help="labelled questions (JSONL); refuse to publish if quality drops below "
        "the configured minimums",
    )
    p.add_argument(
        "--rollback", action="store_true", help="make the previous index version live again"
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="with --dry-run: list the entry ids"
    )
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("ask", help="show ranked entries, scores and the abstain decision")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser("eval", help="measure retrieval on a labelled set")
    p.add_argument(
        "--faqs", required=True, help="FAQ entries: a markdown folder, .md, .jsonl or .csv"
    )
    p.add_argument("--queries", required=True, help='labelled queries: JSONL {"query", "faq_id"}')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", help="folder for threshold_sweep.csv/.png (default var/eval/<set>)")
    p.add_argument(
        "--threshold", type=float, help="abstain threshold to report at (default: configured)"
    )
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("serve", help="run the chat service (HTTP API, OpenAPI at /docs)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--upgrade-db", action="store_true", help="apply database migrations before starting"
    )
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("db", help="database migrations, demo data, retention purge")
    p.add_argument("action", choices=["upgrade", "downgrade", "seed", "purge"])
    p.add_argument(
        "--days",
        type=int,
        help="with purge: keep this many days (default FAQBOT_DB__RETENTION_DAYS, 30)",
    )
    p.add_argument("--demo", action="store_true", help="with seed: demo customers and orders")
    p.add_argument("--orders", type=int, default=240, help="with seed --demo: how many")
    p.add_argument(
        "--if-empty", action="store_true", help="with seed: do nothing if there are orders"
    )
    p.add_argument("revision", nargs="?", help="target (default: head / one step down)")
    p.set_defaults(func=_cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "top_k", 1) is not None and getattr(args, "top_k", 1) < 1:
        parser.error("--top-k must be at least 1")
    if getattr(args, "threshold", None) is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    if getattr(args, "days", None) is not None and args.days < 1:
        parser.error("--days must be at least 1")
    if getattr(args, "orders", 1) < 1:
        parser.error("--orders must be at least 1")
    if getattr(args, "port", 1) is not None and not 1 <= getattr(args, "port", 1) <= 65535:
        parser.error("--port must be between 1 and 65535")
    try:
        return int(args.func(args))
    except ValueError as exc:  # settings and config-file errors
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; the live index is unchanged")
        return 130


if __name__ == "__main__":
    sys.exit(main())
