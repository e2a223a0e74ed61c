"""`faqbot ingest`: publish a new index version from the FAQ sources, or roll back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import DEFAULT_FAQ_DIR, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, err, say, settings_for
from service.config import GateSettings, Settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline
    from service.retrieval.store import IndexStore


# The switches of `faqbot ingest`, with their help texts
SWITCHES = [
    (("--dry-run",), "print the diff against the live index; write nothing"),
    (("--rebuild",), "re-embed everything (needed after changing the embedding model)"),
    (("--skip-invalid",), "publish the valid entries even if some are broken"),
    (
        ("--accept-regressions",),
        "with --gate: publish even if gate questions the live version answers right "
        "would go wrong (they are listed first, and the run is logged)",
    ),
    (("--rollback",), "make the previous index version live again"),
    (("--if-empty",), "do nothing if an index version is already live (a first boot's ingest)"),
    (("-v", "--verbose"), "with --dry-run: list the entry ids"),
]


def add_parser(sub: Any) -> None:
    p = sub.add_parser("ingest", help="embed FAQ sources and publish a new index version")
    p.add_argument(
        "paths",
        nargs="*",
        help=f"markdown folders, .md, .jsonl or .csv files (default {DEFAULT_FAQ_DIR})",
    )
    for flags, text in SWITCHES:
        p.add_argument(*flags, action="store_true", help=text)
    p.add_argument(
        "--gate",
        metavar="QUESTIONS",
        help="labelled questions (JSONL); refuse to publish if quality drops below "
        "the configured minimums",
    )
    p.add_argument(
        "--gate-conversations",
        metavar="CONVERSATIONS",
        help="conversations (JSONL, as eval --conversations): publish only if enough go right",
    )
    _add_replay_options(p)
    p.set_defaults(func=run)


def _add_replay_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--replay",
        action="store_true",
        help="build the new version without publishing it, and show how the gate's "
        "questions (--gate) and the customers' recent questions would be answered "
        "differently",
    )
    p.add_argument(
        "--days",
        type=_days,
        default=30,
        help="with --replay: customers' questions this recent (1-3650)",
    )
    p.add_argument("--json", action="store_true", help="with --replay: one JSON object")


def _days(text: str) -> int:
    days = int(text)
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError("between 1 and 3650 days")
    return days


def _pipeline(settings: Settings, store: IndexStore) -> IngestPipeline:
    from ingest.pipeline import IngestPipeline
    from ingest.progress import Progress
    from service.retrieval.components import build_backend, build_embedder, build_multilingual

    embedder = build_embedder(settings)
    return IngestPipeline(
        settings,
        embedder,
        build_backend(settings, embedder),
        store,
        progress=lambda total, label: Progress(total, label),
        log=say,
        multilingual=build_multilingual(settings),
    )


def run(args: argparse.Namespace) -> int:
    from ingest.pipeline import IngestError
    from service.retrieval.components import build_store
    from service.retrieval.store import IndexStoreError

    settings = settings_for(args)
    store = build_store(settings)
    if args.rollback:
        return _rollback(args, store)
    if args.if_empty and (done := _already_live(store)) is not None:
        return done
    pipeline = _pipeline(settings, store)
    paths = [Path(p) for p in args.paths] or [DEFAULT_FAQ_DIR]
    try:
        if args.replay:
            from cli.replay_command import replay_run

            return replay_run(args, settings, pipeline, paths)
        if args.gate_conversations:
            from cli.conversations import gated_run

            return gated_run(args, settings, pipeline, paths)
        report = pipeline.run(
            paths,
            dry_run=args.dry_run,
            rebuild=args.rebuild,
            skip_invalid=args.skip_invalid,
            gate_questions=Path(args.gate) if args.gate else None,
            accept_regressions=args.accept_regressions,
        )
    except (IngestError, IndexStoreError) as exc:
        for line in getattr(exc, "lines", []):
            say(f"  {line}")
        err(f"ingest: {exc}")
        return EXIT_REFUSED
    print_report(report, args, settings.gate)
    return EXIT_OK


def _print_gate(report: Any, minimums: GateSettings) -> None:
    g, c = report.gate, report.comparison
    live = (
        f"; live {c.live}: {c.live_figures[0]:.3f} and {c.live_figures[1]:.3f}"
        if c is not None
        else ""
    )
    print(
        f"gate passed: recall@1 {g.recall_at_1:.3f} (minimum {minimums.min_recall_at_1:.3f}), "
        f"abstention accuracy {g.abstention_accuracy:.3f} (minimum "
        f"{minimums.min_abstention_accuracy:.3f}) over {g.n_queries} questions{live}"
    )


def _already_live(store: Any) -> int | None:
    """For --if-empty (a first boot's ingest): an exit code when there is nothing to do
    or the pointer is unreadable; None: no index yet, go on."""
    from service.retrieval.store import IndexStoreError

    try:
        live = store.pointer().current
    except IndexStoreError as exc:
        err(f"ingest --if-empty: {exc}")
        return EXIT_REFUSED
    if live is None:
        return None
    print(f"index version {live} is live; nothing to do (--if-empty)")
    return EXIT_OK


def _rollback(args: argparse.Namespace, store: Any) -> int:
    from service.retrieval.store import IndexStoreError

    if args.paths or args.dry_run or args.rebuild or args.gate:
        err("ingest --rollback takes no paths or other options")
        return EXIT_USAGE
    try:
        with store.lock():
            old, new = store.rollback()
    except IndexStoreError as exc:
        err(f"ingest --rollback: {exc}")
        return EXIT_REFUSED
    print(f"rolled back: {new} is live again (was {old})")
    return EXIT_OK


def print_report(report: Any, args: argparse.Namespace, minimums: GateSettings) -> None:
    for warning in report.warnings:
        say(f"  skipped: {warning}")
    for advice in report.advice:
        say(f"  advice: {advice}")
    if report.rollback_notice is not None:
        print(f"warning: {report.rollback_notice}")
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
    if report.comparison is not None:
        for line in report.comparison.lines():
            print(line)
    if report.gate is not None:
        _print_gate(report, minimums)
    if report.published and report.reused_candidate:
        print(
            f"published {report.version}: the version the preview built from these "
            f"sources (not built again), {report.seconds:.1f}s"
        )
    elif report.published:
        print(
            f"published {report.version}: embedded {report.embedded_texts} texts, "
            f"reused {report.reused_vectors} vectors, {report.seconds:.1f}s"
        )
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stage_seconds.items())
        print(f"  stages: {stages}")
    elif not args.dry_run:
        print(f"nothing changed; the live index stays as it is ({report.seconds:.1f}s)")
