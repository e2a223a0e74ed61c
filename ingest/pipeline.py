"""Incremental, atomic ingest: parse, diff against the live version, embed only what
changed, build the next version beside the live one, gate it, publish it in one step."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest import crosslingual
from ingest.advice import entry_advice, similar_questions
from ingest.calibrate import calibrate_index
from ingest.chunking import entry_records
from ingest.generic import generic_questions, outside_faq
from ingest.policy import PolicyError, read_policy
from ingest.regressions import Comparison, compare_versions
from service.config import GateSettings, Settings
from service.retrieval.calibration import Calibration
from service.retrieval.classifier import PhrasingClassifier, with_declines
from service.retrieval.components import build_detector
from service.retrieval.crosslingual import CROSSLINGUAL_FILE, CROSSLINGUAL_VECTORS
from service.retrieval.embedder import Embedder, ProgressCallback
from service.retrieval.evaluation import (
    LabelledQuery,
    Metrics,
    Outcome,
    by_language,
    load_queries,
    run_queries,
    summarize,
)
from service.retrieval.language import LanguageDetector
from service.retrieval.lexical import LexicalIndex
from service.retrieval.neighbours import EntryClassifier, NeighbourClassifier, load_classifier
from service.retrieval.retriever import Retriever
from service.retrieval.schema import (
    CLASSIFIER_FILE,
    DECLINES_FILE,
    LEXICAL_DIR,
    SCHEMA_VERSION,
    FaqEntry,
    IndexRecord,
    parse_record_id,
)
from service.retrieval.store import EntryInfo, IndexStore, IngestLocked, Manifest
from service.retrieval.vector_index import VectorBackend
from service.sources.parse import ParseResult, parse_sources

ProgressFactory = Callable[[int, str], ProgressCallback]
# An edit touching at most this share of the entries keeps the live version's
# calibration and starts the classifier from its weights: editors see a small change
# published in about a second. Larger changes, new decline examples and --rebuild
# calibrate again (a classifier fit per fold, ingest/calibrate.py).
RECALIBRATE_SHARE = 0.05


@dataclass(frozen=True)
class _Reuse:
    """Live records an update keeps (``kept``) and those it replaces or drops (``stale``)."""

    kept: set[str]
    stale: set[str]


class IngestError(RuntimeError):
    """Ingest refused; nothing was published. ``lines`` are the user-facing details."""

    def __init__(self, message: str, lines: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.lines = list(lines)


@dataclass
class SyncPlan:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rebuild: bool = False
    declines_changed: bool = False
    languages_changed: bool = False  # translations, other languages' declines, encoder
    # The live version lacks what this ingest records beside the entries (the policy
    # numbers, entries' dates): a new version is published, every vector reused.
    refresh: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(
            self.rebuild
            or self.refresh
            or self.declines_changed
            or self.languages_changed
            or self.added
            or self.changed
            or self.removed
        )

    @property
    def small_edit(self) -> bool:
        touched = len(self.added) + len(self.changed) + len(self.removed)
        total = len(self.unchanged) + touched
        return (
            not self.rebuild
            and not self.declines_changed
            and touched <= max(1, int(RECALIBRATE_SHARE * total))
        )

    def summary(self) -> str:
        text = (
            f"added {len(self.added)}, changed {len(self.changed)}, "
            f"removed {len(self.removed)}, unchanged {len(self.unchanged)}"
        )
        if self.declines_changed:
            text = f"{text}, decline examples changed"
        if self.languages_changed:
            text = f"{text}, translations changed"
        if self.rebuild:
            return f"{text} (full rebuild)"
        return f"{text} (index details refreshed)" if self.refresh else text


class RegressionsRefused(IngestError):
    """Refused only because gate questions would go wrong: the version is complete and
    kept as the candidate, so publishing it on purpose (--accept-regressions, the
    console's second click) does not build it again."""


@dataclass
class IngestReport:
    plan: SyncPlan
    entries: int
    files: int
    warnings: list[str] = field(default_factory=list)
    # where the FAQ will confuse customers (ingest/advice.py); published all the same
    advice: list[str] = field(default_factory=list)
    # the live version is a rollback and the files still hold what was rolled back
    rollback_notice: str | None = None
    # published (or replayed) the version a preview built from the same sources
    reused_candidate: bool = False
    version: str | None = None
    published: bool = False
    embedded_texts: int = 0
    reused_vectors: int = 0
    gate: Metrics | None = None
    # the gate's questions, the live version against this one (ingest/regressions.py)
    comparison: Comparison | None = None
    calibration: Calibration | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def _timed(into: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        into[stage] = into.get(stage, 0.0) + time.perf_counter() - started


def declines_hash(declines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(declines).encode()).hexdigest()[:16] if declines else ""


def plan_sync(
    entries: Sequence[FaqEntry],
    live: Manifest | None,
    rebuild: bool,
    declines: Sequence[str] = (),
    languages: str = "",
) -> SyncPlan:
    plan = SyncPlan(rebuild=rebuild or live is None)
    plan.declines_changed = live is not None and live.declines_hash != declines_hash(declines)
    plan.languages_changed = live is not None and live.languages_hash != languages
    old = live.entries if live is not None else {}
    new_ids = set()
    for entry in entries:
        new_ids.add(entry.id)
        before = old.get(entry.id)
        if before is None:
            plan.added.append(entry.id)
        elif before.hash != entry.content_hash():
            plan.changed.append(entry.id)
        else:
            plan.unchanged.append(entry.id)
    plan.removed = [e for e in old if e not in new_ids]
    return plan


@dataclass(frozen=True)
class RunOptions:
    """What one run() was asked to do: the pipeline keeps no state of a run on itself."""

    dry_run: bool = False
    rebuild: bool = False
    skip_invalid: bool = False
    gate_questions: Path | None = None
    publish: bool = True
    accept_regressions: bool = False


@dataclass(frozen=True)
class _Run:
    """One run's record, handed from stage to stage: the sources and what the run was
    asked to do, the live version it builds on, and the report the stages fill in."""

    paths: tuple[Path, ...]
    options: RunOptions
    parsed: ParseResult
    policy: dict[str, int]
    live: Manifest | None
    report: IngestReport

    @property
    def base(self) -> str | None:
        """The live version this run's version is gated against and built from."""
        return self.live.version if self.live is not None else None

    @property
    def from_live(self) -> Manifest | None:
        """The live version, when its vectors may be reused (no --rebuild)."""
        return self.live if not self.report.plan.rebuild else None


class IngestPipeline:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        backend: VectorBackend,
        store: IndexStore | None = None,
        progress: ProgressFactory | None = None,
        log: Callable[[str], None] = print,
        multilingual: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        # Builds the cross-lingual index when set (service/retrieval/crosslingual.py).
        self.multilingual = multilingual
        self.backend = backend
        self.store = store or IndexStore(settings.index.path, settings.index.keep_versions)
        self._progress = progress
        self._log = log

    def run(
        self,
        paths: Sequence[Path],
        *,
        dry_run: bool = False,
        rebuild: bool = False,
        skip_invalid: bool = False,
        gate_questions: Path | None = None,
        publish: bool = True,
        accept_regressions: bool = False,
    ) -> IngestReport:
        """One ingest; every run that is not a dry run is logged with its outcome
        (published, unchanged, previewed, refused, locked, failed) for /metrics. Without
        publish, the version is built (and gated) but not published: a candidate to
        replay questions against, removed with discard() or by the next run. A gate
        question the live version answers right and the candidate would not is a
        regression: refused unless accept_regressions (and then logged)."""
        started = time.perf_counter()
        outcome, version = "failed", None
        options = RunOptions(
            dry_run, rebuild, skip_invalid, gate_questions, publish, accept_regressions
        )
        try:
            report = self._run(paths, options)
            outcome = "published" if report.published else "unchanged"
            if not publish and report.version is not None:
                outcome = "previewed"
            version = report.version
            return report
        except IngestError:
            outcome = "refused"
            raise
        except IngestLocked:
            outcome = "locked"
            raise
        finally:
            if not dry_run:
                self.store.record_run(outcome, version, time.perf_counter() - started)

    def _run(self, paths: Sequence[Path], options: RunOptions) -> IngestReport:
        started = time.perf_counter()
        rebuild = options.rebuild
        parsed = parse_sources(paths)
        warnings = [str(e) for e in parsed.errors]
        if parsed.errors and not options.skip_invalid:
            raise IngestError(
                f"{len(parsed.errors)} problem(s) in the sources; nothing was published "
                "(fix them, or pass --skip-invalid to publish the valid entries only)",
                warnings,
            )
        if not parsed.entries:
            raise IngestError("no valid FAQ entries found; nothing was published", warnings)
        try:
            policy = read_policy(parsed.entries, self.settings.orders.returns_window_entry)
        except PolicyError as exc:
            raise IngestError(f"{exc}; nothing was published", warnings) from None
        if options.dry_run:
            live = self.store.live_manifest()
            report = self._report(parsed, warnings, rebuild, live)
            report.seconds = time.perf_counter() - started
            return report
        with self.store.lock():
            self._collect_garbage()
            live = self.store.live_manifest()
            report = self._report(parsed, warnings, rebuild, live)
            report.plan.refresh = live is not None and _stale_details(live, parsed.entries, policy)
            if report.plan.has_changes:
                self._build_or_reuse(_Run(tuple(paths), options, parsed, policy, live, report))
        report.seconds = time.perf_counter() - started
        return report

    def _report(
        self,
        parsed: ParseResult,
        warnings: list[str],
        rebuild: bool,
        live: Manifest | None,
    ) -> IngestReport:
        if live is not None and not rebuild:
            if live.model_id != self.embedder.model_id:
                raise IngestError(
                    f"the live index ({live.version}) was built with embedding model "
                    f"{live.model_id}, but {self.embedder.model_id} is configured; "
                    "vectors from two models cannot be mixed: run again with --rebuild"
                )
            if live.schema_version != SCHEMA_VERSION:
                raise IngestError(
                    f"the live index ({live.version}) uses index schema "
                    f"{live.schema_version}, this faqbot writes {SCHEMA_VERSION}: "
                    "run again with --rebuild"
                )
        report = IngestReport(
            plan=plan_sync(
                parsed.entries, live, rebuild, parsed.declines, self._languages_hash(parsed)
            ),
            entries=len(parsed.entries),
            files=parsed.files,
            warnings=warnings,
            advice=entry_advice(parsed.entries),
        )
        report.rollback_notice = self._rollback_notice(parsed.entries, live)
        return report

    def _rollback_notice(self, entries: Sequence[FaqEntry], live: Manifest | None) -> str | None:
        """A rollback changes what is live, not the files: the next publish would quietly
        put back what was rolled back. Say so, naming the entries, before it does."""
        undone = self.store.rolled_back_from()
        if live is None or undone is None:
            return None
        try:
            rolled = self.store.manifest(undone)
        except Exception:  # pruned or damaged: nothing to compare with
            return None
        back = sorted(
            e.id
            for e in entries
            if (was := rolled.entries.get(e.id)) is not None
            and was.hash == e.content_hash()
            and (now := live.entries.get(e.id)) is not None
            and now.hash != was.hash
        )
        back += sorted((set(rolled.entries) - set(live.entries)) & {e.id for e in entries})
        if not back:
            return None
        return (
            f"the live version {live.version} is a rollback of {undone}, but the FAQ files "
            f"still say what {undone} said for {len(back)} entr"
            f"{'y' if len(back) == 1 else 'ies'} ({', '.join(back[:8])}): publishing puts "
            "that back live. Undo those edits in the files first, or publish on purpose."
        )

    def _build_or_reuse(self, run: _Run) -> None:
        """Publishes (or, without publish, keeps as the candidate) the version for these
        sources: the preview's candidate when it matches, else a new build."""
        fingerprint = self._fingerprint(run.parsed, run.policy)
        base, report = run.base, run.report
        try:
            if self._reuse_candidate(run, fingerprint):
                return
            self._build_and_publish(run)
            if not report.published:
                self.store.write_candidate(report.version or "", fingerprint, base)
        except RegressionsRefused:
            self.store.write_candidate(report.version or "", fingerprint, base)
            raise
        except BaseException:
            # A refused or failed version must not linger (a SIGKILL skips this; the
            # next run's garbage collection covers that case).
            if report.version is not None and not report.published:
                self.backend.drop(report.version)
                self.store.remove_version_files(report.version)
            raise

    def _fingerprint(self, parsed: ParseResult, policy: dict[str, int]) -> str:
        """Everything a version is built from: the entries, the declines, the
        translations, the model and the settings that shape the index."""
        parts = {
            "entries": sorted((e.id, e.content_hash()) for e in parsed.entries),
            "declines": declines_hash(parsed.declines),
            "languages": self._languages_hash(parsed),
            "model": self.embedder.model_id,
            "retrieval": self.settings.retrieval.model_dump(mode="json"),
            "policy": policy,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _reuse_candidate(self, run: _Run, fingerprint: str) -> bool:
        """The version the preview built from these very sources, on this live version,
        is gated and published (or replayed again) instead of being built a second time."""
        candidate = self.store.candidate()
        if run.options.rebuild or candidate is None:
            return False
        if candidate.get("fingerprint") != fingerprint or candidate.get("base") != run.base:
            return False
        report = run.report
        report.version, report.reused_candidate = str(candidate["version"]), True
        self._log(f"using {report.version}, built by the preview from the same sources")
        self._gate_and_publish(run, report.version)
        return True

    def _gate_and_publish(self, run: _Run, version: str) -> None:
        """A complete version (just built, or the preview's candidate): gated against the
        live one, then published unless this run only builds a candidate."""
        report, options = run.report, run.options
        if options.gate_questions is not None:
            with _timed(report.stage_seconds, "gate"):
                report.gate, report.comparison = self._gate(version, run.base, options)
        if not options.publish:
            return  # a candidate: built and gated, never live
        self.store.publish(version)
        report.published = True
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        """Remove versions a killed or refused run left behind (we hold the lock)."""
        for version in self.store.garbage_versions(self.backend.versions()):
            self.backend.drop(version)
            self.store.remove_version_files(version)

    def _build_and_publish(self, run: _Run) -> None:
        """The stages of a new version: vectors, the lexical index, the classifier and its
        calibration, the translations; then its manifest, the gate and the publish."""
        entries, report = run.parsed.entries, run.report
        version = self.store.new_version_id()
        report.version = version
        self._log(f"building index version {version}: {report.plan.summary()}")
        records = [r for entry in entries for r in entry_records(entry)]
        vectors = self._index_vectors(run, version, records)
        report.advice += similar_questions(entries, vectors, *_owners(records))
        self._lexical(run, version)
        calibration = self._classifier(run, version, records, vectors)
        # The manifest is written last: a version without one is unfinished and is
        # removed by the next run.
        manifest = self._manifest(run, version, records, vectors)
        manifest.calibration = calibration.to_dict()
        manifest.translations, manifest.languages_hash = self._languages(run, version)
        self.store.write_manifest(manifest)
        self._gate_and_publish(run, version)

    def _index_vectors(self, run: _Run, version: str, records: list[IndexRecord]) -> np.ndarray:
        """The version's vector collection, and the records' vectors. The collection is
        made first so that even a run killed while embedding leaves a visible,
        unpublished version for the next run's garbage collection. An update starts
        from a copy of the live vectors and changes only the edited entries' records."""
        stages, live = run.report.stage_seconds, run.from_live
        forked = live is not None and bool(run.report.plan.unchanged)
        with _timed(stages, "vector store"):
            index = (
                self.backend.fork(live.version, version)
                if forked and live is not None
                else self.backend.create(version)
            )
        vectors, reused = self._vectors(run, records)
        with _timed(stages, "vector store"):
            if forked:
                index.delete(sorted(reused.stale))
                fresh = [i for i, r in enumerate(records) if r.id not in reused.kept]
                index.add([records[i].id for i in fresh], vectors[fresh])
            else:
                index.add([r.id for r in records], vectors)
        return vectors

    def discard(self, version: str) -> None:
        """Remove a candidate that was built without publishing."""
        with self.store.lock():
            if version != self.store.pointer().current:
                self.backend.drop(version)
                self.store.remove_version_files(version)

    def _languages_hash(self, parsed: ParseResult) -> str:
        if self.multilingual is None:
            return ""
        return crosslingual.languages_hash(
            parsed.translations,
            parsed.foreign_declines,
            self.multilingual.model_id,
            self.settings.languages.classifier_weight,
        )

    def _languages(self, run: _Run, version: str) -> tuple[dict[str, dict[str, EntryInfo]], str]:
        """The translations for the manifest; and, with a multilingual encoder, the
        cross-lingual index, calibrated, in the version's folder."""
        parsed, report, live = run.parsed, run.report, run.from_live
        translations = {
            lang: {e.id: _entry_info(e) for e in entries}
            for lang, entries in parsed.translations.items()
        }
        for lang in sorted(translations):
            missing = parsed.untranslated(lang)
            if missing:
                report.warnings.append(
                    f"{lang}: {len(missing)} of {len(parsed.entries)} entries have no "
                    f"translation (answered in English there): {', '.join(missing[:5])}"
                    + (" ..." if len(missing) > 5 else "")
                )
        if self.multilingual is None:
            return translations, ""
        model = self.multilingual.model_id
        with _timed(report.stage_seconds, "cross-lingual"):
            known = (
                crosslingual.load_vectors(
                    self.store.version_dir(live.version) / CROSSLINGUAL_VECTORS, model
                )
                if live is not None
                else {}
            )
            index, vectors = crosslingual.build(
                parsed.entries,
                parsed.translations,
                parsed.declines,
                parsed.foreign_declines,
                self.multilingual,
                self.settings.retrieval.target_oos_recall,
                known=known,
                classifier_weight=self.settings.languages.classifier_weight,
            )
            folder = self.store.version_dir(version)
            index.save(folder / CROSSLINGUAL_FILE)
            crosslingual.save_vectors(folder / CROSSLINGUAL_VECTORS, model, vectors)
        self._log(index.describe())
        return translations, self._languages_hash(parsed)

    def _vectors(self, run: _Run, records: list[IndexRecord]) -> tuple[np.ndarray, _Reuse]:
        """One vector per record, in order: unchanged entries' vectors are copied from the
        live version, only new and changed ones are embedded."""
        report, live = run.report, run.live
        plan = report.plan
        reuse_ids = set() if plan.rebuild else set(plan.unchanged)
        reused: dict[str, np.ndarray] = {}
        stale: set[str] = set()
        if reuse_ids and live is not None:
            stored = self.backend.open(live.version).get_all()
            for rid, vec in zip(stored.ids, stored.embeddings, strict=True):
                if parse_record_id(rid)[0] in reuse_ids:
                    reused[rid] = vec
                else:
                    stale.add(rid)
        to_embed = [r for r in records if r.id not in reused]
        report.reused_vectors = len(records) - len(to_embed)
        with _timed(report.stage_seconds, "embed"):
            new_vectors = self._embed([r.text for r in to_embed])
        report.embedded_texts = len(to_embed)
        fresh = {r.id: v for r, v in zip(to_embed, new_vectors, strict=True)}
        vectors = np.stack([reused[r.id] if r.id in reused else fresh[r.id] for r in records])
        # records of unchanged entries that are gone (a chunking change) are stale too
        kept = set(reused) & {r.id for r in records}
        return vectors, _Reuse(kept=kept, stale=stale | (set(reused) - kept))

    def _lexical(self, run: _Run, version: str) -> None:
        entries = run.parsed.entries
        with _timed(run.report.stage_seconds, "lexical"):
            LexicalIndex.build(
                [e.id for e in entries],
                [" ".join([e.question, *e.questions, e.answer]) for e in entries],
            ).save(self.store.version_dir(version) / LEXICAL_DIR)

    def _decline_vectors(
        self, run: _Run, version: str, declines: list[str], dim: int
    ) -> np.ndarray:
        """The decline examples' vectors, kept beside the version; unchanged examples are
        copied from the live version."""
        known: dict[str, np.ndarray] = {}
        report, live = run.report, run.from_live
        if live is not None:
            known = _load_declines(self.store.version_dir(live.version) / DECLINES_FILE)
        todo = [d for d in declines if d not in known]
        if todo:
            with _timed(report.stage_seconds, "embed declines"):
                known.update(zip(todo, self._embed(todo), strict=True))
            report.embedded_texts += len(todo)
        vectors = (
            np.stack([known[d] for d in declines]) if declines else np.zeros((0, dim), np.float32)
        )
        np.savez(
            self.store.version_dir(version) / DECLINES_FILE,
            texts=np.array(declines, dtype=str),
            vectors=vectors,
        )
        return vectors

    def _all_declines(
        self, run: _Run, version: str, records: list[IndexRecord], vectors: np.ndarray
    ) -> tuple[np.ndarray, int]:
        """The shop's decline examples' vectors, then those of faqbot's generic questions
        that are not close to this FAQ (generic.py), and how many of those there are."""
        declines = run.parsed.declines
        known = set(declines)
        extra = [q for q in generic_questions("en") if q not in known]
        both = self._decline_vectors(run, version, [*declines, *extra], vectors.shape[1])
        keep = outside_faq(both[len(declines) :], vectors, *_owners(records))
        return np.vstack([both[: len(declines)], both[len(declines) :][keep]]), int(keep.sum())

    def _classifier(
        self, run: _Run, version: str, records: list[IndexRecord], vectors: np.ndarray
    ) -> Calibration:
        """Fit the classifier (the decline examples as one more class) and calibrate the
        thresholds by cross-validation, or, for a small edit, keep the live calibration and
        start from the live weights. Above ``classifier_max_entries`` the neighbour
        classifier replaces the linear fit, which would take minutes there."""
        declines, generic = self._all_declines(run, version, records, vectors)
        report, live = run.report, run.live
        entry_ids = [r.entry_id for r in records]
        entries = list(dict.fromkeys(entry_ids))
        linear = len(entries) <= self.settings.retrieval.classifier_max_entries
        previous = self._live_classifier(live) if report.plan.small_edit else None
        # a small edit keeps the live calibration if the classifier stays of its kind
        same_kind = previous is not None and isinstance(previous, PhrasingClassifier) == linear
        if live is not None and same_kind:
            calibration = Calibration.from_dict(live.calibration)
        else:
            with _timed(report.stage_seconds, "calibration"):
                calibration, previous = calibrate_index(
                    vectors,
                    entry_ids,
                    [r.kind for r in records],
                    declines,
                    self.settings.retrieval,
                    linear=linear,
                    generic=generic,
                )
        path = self.store.version_dir(version) / CLASSIFIER_FILE
        with _timed(report.stage_seconds, "classifier"):
            if linear:
                PhrasingClassifier.fit(
                    *with_declines(vectors, entry_ids, declines, generic),
                    temperature=calibration.temperature,
                    start_from=previous if isinstance(previous, PhrasingClassifier) else None,
                ).save(path)
            else:
                NeighbourClassifier(entries, declines, calibration.temperature).save(path)
        report.calibration = calibration
        return calibration

    def _live_classifier(self, live: Manifest | None) -> EntryClassifier | None:
        if live is None or not live.calibration:
            return None
        try:
            return load_classifier(self.store.version_dir(live.version) / CLASSIFIER_FILE)
        except (OSError, ValueError, KeyError):
            return None  # unreadable: calibrate from scratch

    def _manifest(
        self, run: _Run, version: str, records: list[IndexRecord], vectors: np.ndarray
    ) -> Manifest:
        entries = run.parsed.entries
        return Manifest(
            version=version,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            model_id=self.embedder.model_id,
            dimension=int(vectors.shape[1]),
            schema_version=SCHEMA_VERSION,
            records=len(records),
            entries={e.id: _entry_info(e) for e in entries},
            sources=[str(p) for p in run.paths],
            policy=run.policy,
            declines_hash=declines_hash(run.parsed.declines),
        )

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        callback = self._progress(len(texts), "embedding") if self._progress else None
        try:
            return self.embedder.embed(texts, progress=callback)
        finally:
            close = getattr(callback, "close", None)
            if close is not None:
                close()

    def _open(self, version: str) -> Retriever:
        return Retriever.open(
            self.store,
            self.backend,
            self.embedder,
            self.settings.retrieval,
            version=version,
            multilingual=self.multilingual,
            crosslingual_threshold=self.settings.languages.abstain_threshold,
        )

    def _gate(
        self, version: str, live: str | None, options: RunOptions
    ) -> tuple[Metrics, Comparison | None]:
        """The gate questions against the candidate version, routed by language as the
        service routes them; each labelled language must pass on its own too, and no
        question the live version answers right may go wrong."""
        retriever = self._open(version)
        try:
            assert options.gate_questions is not None  # the callers gate only with one
            queries = load_queries(options.gate_questions, known_ids=None)
        except ValueError as exc:
            raise IngestError(f"--gate: {exc}; nothing was published") from exc
        detector = build_detector(self.settings) if self.multilingual is not None else None
        outcomes = run_queries(retriever, queries, detector)
        metrics = summarize(outcomes, retriever.abstain_threshold)
        failures = _gate_failures("", metrics, self.settings.gate)
        for lang, figures in by_language(outcomes, retriever.abstain_threshold).items():
            failures.extend(_gate_failures(f"{lang}: ", figures, self.settings.gate))
        known = set(retriever.manifest.entries)
        missing = {q.faq_id for q in queries if q.faq_id is not None and q.faq_id not in known}
        if missing:
            failures.append(
                f"{len(missing)} gate question(s) point at entries that no longer exist: "
                + ", ".join(sorted(missing)[:10])
            )
        comparison = self._compare(live, retriever, queries, outcomes, detector)
        # regressions refuse the publish unless accepted; when they are all that refused
        # it, the complete version is kept for the publish that accepts them
        blocking = comparison is not None and bool(comparison.regressions)
        blocking = blocking and not options.accept_regressions
        if blocking and comparison is not None:
            failures.append(
                f"{len(comparison.regressions)} gate question(s) the live version "
                f"{comparison.live} answers right would go wrong (publish anyway with "
                "--accept-regressions)"
            )
        if failures:
            lines = comparison.lines() if comparison is not None else []
            refusal = RegressionsRefused if blocking and len(failures) == 1 else IngestError
            raise refusal(
                f"quality gate failed for version {version}; the live index is unchanged",
                failures + lines,
            )
        if comparison is not None and comparison.regressions:
            self._log(f"publishing with {len(comparison.regressions)} accepted regression(s)")
        return metrics, comparison

    def _compare(
        self,
        live: str | None,
        candidate: Retriever,
        queries: Sequence[LabelledQuery],
        outcomes: list[Outcome],
        detector: LanguageDetector | None,
    ) -> Comparison | None:
        """None when nothing is live yet, or the live version no longer loads (it is
        being replaced; nothing to compare with)."""
        if live is None:
            return None
        try:
            before = self._open(live)
        except Exception as exc:  # a damaged live version must not block its replacement
            self._log(
                f"the live version {live} does not load ({type(exc).__name__}): "
                "the gate compares with nothing"
            )
            return None
        return compare_versions(before, candidate, queries, detector, outcomes)


def _gate_failures(prefix: str, metrics: Metrics, gate: GateSettings) -> list[str]:
    failures = []
    if (metrics.recall_at_1 or 0.0) < gate.min_recall_at_1:
        failures.append(
            f"{prefix}recall@1 {metrics.recall_at_1 or 0.0:.3f} is below the minimum "
            f"{gate.min_recall_at_1:.3f}"
        )
    if metrics.abstention_accuracy < gate.min_abstention_accuracy:
        failures.append(
            f"{prefix}abstention accuracy {metrics.abstention_accuracy:.3f} is below the "
            f"minimum {gate.min_abstention_accuracy:.3f}"
        )
    return failures


def _stale_details(live: Manifest, entries: list[FaqEntry], policy: dict[str, int]) -> bool:
    """Whether the live version was built before the manifest kept the policy numbers,
    the entries' dates or a calibration, so that upgrading faqbot and running ingest
    publishes them."""
    if live.policy != policy or not live.calibration:
        return True
    dates = {e.id: e.updated for e in entries}
    return any(info.updated != dates.get(entry_id, "") for entry_id, info in live.entries.items())


def _owners(records: Sequence[IndexRecord]) -> tuple[list[str], list[str]]:
    """Each record's entry and kind, as the vectors' labels."""
    return [r.entry_id for r in records], [str(r.kind) for r in records]


def _load_declines(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {str(t): v for t, v in zip(data["texts"], data["vectors"], strict=True)}
    except (OSError, ValueError, KeyError):
        return {}  # none kept (an older version): they are embedded again


def _entry_info(e: FaqEntry) -> EntryInfo:
    return EntryInfo(
        hash=e.content_hash(),
        question=e.question,
        title=e.display_title,
        url=e.url,
        category=e.category,
        answer=e.answer,
        updated=e.updated,
    )
