"""`faqbot ingest --replay`: build the candidate version, replay the gate's and the last
days' customer questions against it and the live version, print what would change, and
publish nothing."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.common import EXIT_OK, say


def questions_to_replay(settings: Any, gate: str | None, days: int) -> list[str]:
    """The gate file's questions and the customers' questions of the last days (when the
    chat database can be read)."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.admin.inbox import recent_questions
    from service.db.engine import make_engine
    from service.retrieval.evaluation import load_queries

    questions = [q.query for q in load_queries(Path(gate))] if gate else []
    engine = make_engine(settings.db.url)
    try:
        questions += recent_questions(engine, datetime.now(UTC) - timedelta(days=days))
    except SQLAlchemyError as exc:
        say(f"  customers' questions not replayed: the chat database failed ({type(exc).__name__})")
    finally:
        engine.dispose()
    return questions


def replay_run(args: argparse.Namespace, settings: Any, pipeline: Any, paths: list[Path]) -> int:
    from cli.conversations import open_version
    from ingest.replay import replay
    from service.retrieval.components import build_detector

    questions = questions_to_replay(settings, args.gate, args.days)
    report = pipeline.run(
        paths, rebuild=args.rebuild, skip_invalid=args.skip_invalid, publish=False
    )
    if report.version is None:
        print(json.dumps({"changed": False}) if args.json else "nothing changed; nothing to replay")
        return EXIT_OK
    try:
        live = pipeline.store.live_manifest()
        before = open_version(pipeline, settings, live.version) if live else None
        after = open_version(pipeline, settings, report.version)
        detector = build_detector(settings)
        result = replay(before, after, questions, detector)
        labelled = _labelled(args.gate, before, after, detector)
    except BaseException:
        pipeline.discard(report.version)
        raise
    # the candidate stays: a publish of the same sources publishes it, not a new build
    if args.json:
        extra = {"gate": labelled.as_dict()} if labelled is not None else {}
        extra["rollback_notice"] = report.rollback_notice
        summary = {"changed": True, "plan": report.plan.summary(), **result.as_dict()}
        print(json.dumps({**summary, **extra}))
    else:
        print(f"candidate: {report.plan.summary()} (not published)")
        if report.rollback_notice is not None:
            print(f"warning: {report.rollback_notice}")
        for line in [*(labelled.lines() if labelled is not None else []), *result.lines()]:
            print(line)
    return EXIT_OK


def _labelled(gate: str | None, before: Any, after: Any, detector: Any) -> Any:
    """The gate's labelled questions, question by question: regressions first."""
    from ingest.regressions import compare_versions
    from service.retrieval.evaluation import load_queries

    if gate is None or before is None:
        return None
    return compare_versions(before, after, load_queries(Path(gate)), detector)
