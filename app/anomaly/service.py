"""The anomaly model's use cases: what training reads, scoring the points a client sends, and
watching the transactions already stored."""

import asyncio
import contextlib
import heapq
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.anomaly.features import (
    AMOUNT,
    FEATURE_NAMES,
    QUANTITY,
    check_requested,
    read_points,
    valid_number,
)
from app.anomaly.inputs import AnomalyInput
from app.anomaly.queries import AnomalyQueries
from app.anomaly.schemas import (
    AnomalyResult,
    AnomalyStatus,
    DayCount,
    Reason,
    RecentAnomalies,
    ScoredTransaction,
)
from app.config import Settings
from app.core.lifecycle import FitReference, ModelService, TrainingData
from app.errors import TooLarge

if TYPE_CHECKING:  # the ML modules load with the first model, after the API answers
    from app.anomaly.model import AnomalyModel, Scored


def _reasons(found: "list[Any]") -> list[Reason]:
    return [Reason(**vars(reason)) for reason in found]


# A batch this small is scored in the event loop (about a millisecond): a thread hop costs more
# than that under load, while a larger batch would hold the loop too long.
INLINE_POINTS = 100


class AnomalyService(ModelService[AnomalyInput, "AnomalyModel"]):
    name = "anomaly"
    MODEL_TYPE_SETTING = "ANOMALY_MODEL_TYPE"

    fit = FitReference[AnomalyInput, "AnomalyModel"]("app.anomaly.model:fit_model")

    @cached_property
    def _queries(self) -> AnomalyQueries:
        return AnomalyQueries(self._db, self._settings)

    async def read(self, now: datetime) -> TrainingData[AnomalyInput]:
        """The window's most recent transactions of every status (clients score orders whatever
        their status), each product's median unit price and quantity in the window, and the
        catalogue's prices; documents without a usable amount or quantity are dropped. The
        last ANOMALY_CALIBRATION_DAYS calibrate the flag rate."""
        s = self._settings
        start = now - timedelta(days=s.DATA_COLLECTION_DAYS)
        sample, typical, catalogue = await asyncio.gather(
            self._queries.transaction_sample(start, s.ANOMALY_SAMPLE_SIZE),
            self._queries.product_references(start),
            self._queries.catalogue_prices(),
        )
        usable = [
            d for d in sample if valid_number(d.get("amount")) and valid_number(d.get("quantity"))
        ]
        data = AnomalyInput(
            usable,
            typical,
            catalogue,
            s.ANOMALY_MODEL_TYPE,
            s.ANOMALY_FLAG_RATE,
            now - timedelta(days=s.ANOMALY_CALIBRATION_DAYS),
        )
        return TrainingData(data, len(usable), start, now)

    async def detect(
        self, points: list[dict[str, Any]], requested_features: list[str]
    ) -> list[AnomalyResult]:
        """Scores every point in one vectorised call; an empty batch is an empty answer."""
        limit = self._settings.MAX_DETECT_POINTS
        if len(points) > limit:
            raise TooLarge(
                f"data_points holds {len(points):,} points; at most {limit:,} "
                "(MAX_DETECT_POINTS) are scored per request. Split the batch."
            )
        if not points:
            return []
        check_requested(requested_features)
        model, _ = self._live()
        if len(points) <= INLINE_POINTS:
            return _score_points(model, points)
        return await asyncio.to_thread(_score_points, model, points)

    async def recent(self, days: int, limit: int) -> RecentAnomalies:
        """Scores the stored transactions of the last `days` days (today included), batch by
        batch: memory holds a batch, the `limit` most anomalous so far and a count per day."""
        s = self._settings
        model, version = self._live()
        start = (self._clock().astimezone(UTC) - timedelta(days=days - 1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        end = start + timedelta(days=days)
        tally = _Tally(limit)
        read = self._queries.recent_transactions(start, end, s.ANOMALY_RECENT_TIMEOUT_SECONDS)
        async with contextlib.aclosing(read) as batches:
            async for batch in batches:
                documents = [p for p in (_as_point(doc, s) for doc in batch) if _scorable(p)]
                result = await asyncio.to_thread(_score_stored, model, documents)
                tally.add(documents, result.scores, result.flags)
        flagged = sum(tally.flagged.values())
        rate = flagged / tally.seen if tally.seen else None
        return RecentAnomalies(
            message=f"Scored {tally.seen:,} transactions of the last {days} days; "
            f"{flagged:,} flagged.",
            days=days,
            scored=tally.seen,
            flagged=flagged,
            expected_flag_rate=model.contamination,
            flag_rate=rate,
            flag_rate_note=rate_note(model.contamination, rate, f"these {days} days"),
            per_day=[
                DayCount(date=day, transactions=tally.scored[day], flagged=tally.flagged[day])
                for day in (start.date() + timedelta(days=d) for d in range(days))
            ],
            most_anomalous=await asyncio.to_thread(_explained, model, tally.most_anomalous()),
            model_version=version,
        )

    def status(self) -> AnomalyStatus:
        model = self._live_or_none()
        described = self._described()
        if model is None:
            budget = self._settings.ANOMALY_FLAG_RATE
            return AnomalyStatus(
                **described.model_dump(),
                contamination_threshold=budget,
                expected_flag_rate=budget,
                recent_flag_rate=None,
                calibration_rows=None,
                flag_rate_note=rate_note(budget, None, ""),
                features=list(FEATURE_NAMES),
                training_sample_size=None,
                share_flagged_in_training=None,
                threshold=None,
                severity_cutoffs={},
            )
        calibration = model.calibration
        recent = None if calibration is None else calibration.recent_flag_rate
        days = self._settings.ANOMALY_CALIBRATION_DAYS
        return AnomalyStatus(
            **described.model_dump(),
            contamination_threshold=model.contamination,
            expected_flag_rate=model.contamination,
            recent_flag_rate=recent,
            calibration_rows=None if calibration is None else calibration.recent_rows,
            flag_rate_note=rate_note(model.contamination, recent, f"in the last {days} days"),
            features=model.feature_names,
            training_sample_size=int(model.metrics["training_rows"]),
            share_flagged_in_training=model.metrics["outlier_share"],
            threshold=model.flag_threshold,
            severity_cutoffs=model.cutoffs,
        )


def rate_note(expected: float, rate: float | None, period: str) -> str:
    """ "About 2 in 100 transactions are flagged; these 7 days 2.3 in 100." (the second half
    only with a rate)."""
    note = f"About {_per_hundred(expected)} in 100 transactions are flagged"
    if rate is None:
        return note + "."
    return f"{note}; {period} {_per_hundred(rate)} in 100."


def _per_hundred(share: float) -> str:
    return f"{share * 100:.1f}".removesuffix(".0")


class _Tally:
    """What a watch keeps while it reads: counts per UTC day and the `limit` lowest scores."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._best: list[tuple[float, int, dict[str, Any]]] = []  # a heap of (-score, n, doc)
        self.scored: Counter[date] = Counter()
        self.flagged: Counter[date] = Counter()
        self.seen = 0

    def add(self, documents: list[dict[str, Any]], scores: Any, flags: Any) -> None:
        for doc, score, flag in zip(documents, scores, flags, strict=True):
            day = doc["date"].astimezone(UTC).date()
            self.scored[day] += 1
            self.flagged[day] += bool(flag)
            entry = (-float(score), self.seen, doc)
            self.seen += 1
            if len(self._best) < self._limit:
                heapq.heappush(self._best, entry)
            elif entry > self._best[0]:
                heapq.heapreplace(self._best, entry)

    def most_anomalous(self) -> list[dict[str, Any]]:
        return [doc for _, _, doc in sorted(self._best, reverse=True)]


def _explained(model: "AnomalyModel", documents: list[dict[str, Any]]) -> list[ScoredTransaction]:
    """In a worker thread: the stored transactions scored again, with their explanations."""
    from app.anomaly.explain import explain

    if not documents:
        return []
    result = model.score(read_points(documents))
    reasons = explain(model, result)
    return [
        ScoredTransaction(
            is_anomaly=bool(result.flags[i]),
            transactionId=_text(doc.get("transactionId")),
            date=doc["date"],
            userId=_text(doc.get("userId")),
            productId=_text(doc.get("productId")),
            totalAmount=doc[AMOUNT],
            quantity=doc[QUANTITY],
            anomaly_score=float(result.scores[i]),
            severity=result.severities[i],
            explanation=_reasons(reasons[i]),
        )
        for i, doc in enumerate(documents)
    ]


def _text(value: Any) -> str | None:
    """A stored id as text, whatever type the producer wrote it with."""
    return None if value is None else str(value)


def _as_point(doc: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A stored transaction under the names a detect call uses."""
    return {
        "transactionId": doc.get("transactionId"),
        "date": doc.get(settings.TRANSACTION_DATE_FIELD),
        "userId": doc.get(settings.TRANSACTION_USER_FIELD),
        "productId": _text(doc.get(settings.TRANSACTION_PRODUCT_FIELD)),
        AMOUNT: doc.get(settings.TRANSACTION_AMOUNT_FIELD),
        QUANTITY: doc.get(settings.TRANSACTION_QUANTITY_FIELD),
    }


def _score_points(model: "AnomalyModel", points: list[dict[str, Any]]) -> list[AnomalyResult]:
    """In a worker thread: reads, scores and explains a batch of client points."""
    from app.anomaly.explain import explain

    read = read_points(points)
    result = model.score(read)
    reasons = explain(model, result)
    return [
        AnomalyResult(
            is_anomaly=bool(result.flags[i]),
            anomaly_score=float(result.scores[i]),
            severity=result.severities[i],
            explanation=_reasons(reasons[i]),
            expected_flag_rate=model.contamination,
            data=point,
            details={AMOUNT: float(read.amount[i]), QUANTITY: float(read.quantity[i])},
        )
        for i, point in enumerate(points)
    ]


def _score_stored(model: "AnomalyModel", documents: list[dict[str, Any]]) -> "Scored":
    return model.score(read_points(documents))


def _scorable(point: dict[str, Any]) -> bool:
    """Stored documents with a date, an amount and a quantity are scored; others are skipped
    (the producer's data is not ours to reject)."""
    return isinstance(point["date"], datetime) and all(
        valid_number(point[field]) for field in (AMOUNT, QUANTITY)
    )
