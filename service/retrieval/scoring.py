"""The ranking score and the confidence, as pure functions over arrays, so that search
and the calibration at ingest compute them the same way.

    dense      = w * best sim(query, question or phrasing) + (1 - w) * best sim(query, chunk)
    score      = dense + classifier_weight * P(entry | query) + lexical_weight * bm25 / best
    confidence = sqrt(P_calibrated(top entry)) * best cosine of the top entry
    margin     = score(top) - score(second)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.config import RetrievalSettings

Array = npt.NDArray[np.floating]


def fused_scores(
    question_sim: Array, chunk_sim: Array, probs: Array, lexical: Array, s: RetrievalSettings
) -> Array:
    dense = s.question_weight * question_sim + (1 - s.question_weight) * chunk_sim
    return dense + s.classifier_weight * probs + s.lexical_weight * lexical  # type: ignore[no-any-return]


def confidence(p_top: Array | float, best_cosine: Array | float) -> Array:
    """The classifier's calibrated probability says whether the query is one of this
    FAQ's questions at all (it spreads out, or goes to the decline class, for off-topic
    queries); the cosine says how close it came. Neither alone separates in-scope from
    out-of-scope as well as both (docs/retrieval.md)."""
    p = np.clip(np.asarray(p_top, dtype=np.float64), 0.0, None)
    return np.sqrt(p) * np.clip(np.asarray(best_cosine, dtype=np.float64), 0.0, None)
