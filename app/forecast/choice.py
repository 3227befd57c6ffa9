"""The `auto` forecast: chosen per series from its own rolling-origin backtest, in a way that
resists the noise of choosing among many methods on a dozen origins.

The methods of POOL are ranked by their mean backtest MASE over 7 and 28 days; what is served
is the median, day by day, of all but the LEFT_OUT worst: the best 5 of the total's 7, the best
3 of a category's 5. A single best method is the most exposed to that
noise (its lead over a few origins is often luck), and the median of the best five cannot be
pulled far by one or two of them that go wrong; the backtest still matters: it leaves out the
two worst, often a weekday mean that cannot follow a level or an ARIMA that drifted the wrong
way. docs/benchmarks.md has the rules compared and why this one won (the median of the best 3
and the best single method did worse out of sample, most on series that shift)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.forecast.backtest import Backtest
from app.forecast.candidates import CandidateName

# What `auto` chooses from: methods that repeat the week, and methods that follow a level that
# moves. The recursive regressors are left out (they cannot follow a level beyond what they
# saw, and cost most of a training), and so is the fixed ensemble, built on them.
POOL: tuple[CandidateName, ...] = (
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
    "ETS",
    "ARIMA",
    "Theta",
    "ProfileTrend",
)
# A category's pool: the methods fitted in milliseconds, so that dozens of categories fit in a
# training's budget (ETS and ARIMA take 0.1-2 s a fit, and a backtest refits at every origin).
CATEGORY_POOL: tuple[CandidateName, ...] = (
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
    "Theta",
    "ProfileTrend",
)
TREND_CAPABLE = frozenset({"ETS", "ARIMA", "Theta", "ProfileTrend"})
LEFT_OUT = 2
LABELS: dict[str, str] = {
    "seasonal_naive": "seasonal naive",
    "weekday_mean_28": "the 28-day weekday mean",
    "weekday_mean_90": "the 90-day weekday mean",
    "ETS": "ETS",
    "ARIMA": "ARIMA",
    "Theta": "Theta",
    "ProfileTrend": "a weekday profile times a damped level and trend",
    "RandomForestRegressor": "the random forest",
    "LinearRegression": "the linear regression",
    "ensemble": "the fixed ensemble",
}


def score(row: dict[str, float]) -> float:
    """What ranks methods: the mean of their backtest MASE at 7 and 28 days."""
    return (row["mase_h7"] + row["mase_h28"]) / 2


def ranked(
    table: dict[str, dict[str, float]], pool: Sequence[CandidateName]
) -> list[CandidateName]:
    """The methods of `pool` in the backtest table, best first."""
    return sorted((name for name in pool if name in table), key=lambda n: score(table[n]))


Rule = Callable[[dict[str, dict[str, float]], Sequence[CandidateName]], dict[CandidateName, float]]


def _best(k: int, weighted: bool) -> Rule:
    def weights(
        table: dict[str, dict[str, float]], pool: Sequence[CandidateName]
    ) -> dict[CandidateName, float]:
        best = ranked(table, pool)[:k]
        raw = [1 / max(score(table[name]), 1e-9) if weighted else 1.0 for name in best]
        return {name: w / sum(raw) for name, w in zip(best, raw, strict=True)}

    return weights


# Combination rules compared by bench/forecast_choice.py: each gives the weights of a weighted
# mean of the methods, except the medians, whose weights only name their members.
RULES: dict[str, Rule] = {
    "best single": _best(1, weighted=False),
    "median of the best 3": _best(3, weighted=False),
    "mean of the best 3": _best(3, weighted=False),
    "inverse-MASE mean of the best 3": _best(3, weighted=True),
    "median of the best 5": _best(5, weighted=False),
}
SERVED_RULE = "median of the best 5"  # what `choose` does with the total's pool of 7


def combine(
    rule: str,
    forecasts: Mapping[CandidateName, np.ndarray],
    weights: Mapping[CandidateName, float],
) -> np.ndarray:
    """The rule's forecast from its members' forecasts (arrays of one shape)."""
    stacked = np.array([forecasts[name] for name in weights])
    if rule.startswith("median"):
        median: np.ndarray = np.median(stacked, axis=0)
        return median
    return np.tensordot(np.array(list(weights.values())), stacked, axes=1)


@dataclass
class Choice:
    members: tuple[CandidateName, ...]
    errors: np.ndarray  # the combination's backtest errors, as Backtest.errors holds them


def choose(tested: Backtest, pool: Sequence[CandidateName]) -> Choice:
    """The served rule's members among the backtested methods of `pool`, and the backtest
    errors of their median (its forecasts at each origin, from theirs)."""
    table = tested.table()
    best = ranked(table, pool)
    members = tuple(best[: max(len(best) - LEFT_OUT, 1)])
    forecasts = {name: tested.forecasts(name) for name in members}
    actual = tested.actuals[members[0]]
    return Choice(members, actual - combine(SERVED_RULE, forecasts, dict.fromkeys(members, 1.0)))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _versus_naive(row: dict[str, float], naive: dict[str, float]) -> str:
    return (
        f", MASE {row['mase_h7']:.2f} at 7 days and {row['mase_h28']:.2f} at 28 against "
        f"seasonal naive's {naive['mase_h7']:.2f} and {naive['mase_h28']:.2f}"
    )


def configured(table: dict[str, dict[str, float]], served: str, model_type: str) -> str:
    """The sentence for a method served because it is configured (or the short history's
    fallback), not chosen."""
    sentence = f"{_capital(LABELS.get(served, served))}, " + (
        "as FORECAST_MODEL_TYPE sets"
        if served == model_type
        else f"as the history is too short for {LABELS.get(model_type, model_type)}"
    )
    row, naive = table.get(served, {}), table.get("seasonal_naive", {})
    if row and naive and served != "seasonal_naive":
        sentence += _versus_naive(row, naive)
    better = [name for name in table if row and score(table[name]) < score(row)]
    if better:
        best = min(better, key=lambda name: score(table[name]))
        sentence += (
            f". {_capital(LABELS.get(best, best))} scored better in this backtest; it is "
            "not served because the configuration names a method (`auto` chooses from the "
            "backtest)"
        )
    return sentence + "."


def explain(
    table: dict[str, dict[str, float]], members: Sequence[str], pool_size: int, origins: int
) -> str:
    """The sentence the page and the API show: what is served, from what, and how it did."""
    row, naive = table.get("auto", {}), table.get("seasonal_naive", {})
    if len(members) == 1:
        what = f"{LABELS.get(members[0], members[0])}, the best"
    else:
        names = [LABELS.get(name, name) for name in members]
        what = f"The median of {', '.join(names[:-1])} and {names[-1]}, the best {len(members)}"
    sentence = f"{_capital(what)} of {pool_size} methods over {origins} origins"
    if row and naive:
        sentence += _versus_naive(row, naive)
    better = sorted(
        (name for name in table if name != "auto" and row and score(table[name]) < score(row)),
        key=lambda name: score(table[name]),
    )
    if better:
        sentence += (
            f". {_capital(LABELS.get(better[0], better[0]))} alone scored better here, but "
            "one method's lead over a dozen origins is mostly luck: across the benchmark "
            "panel, the median of all but the two worst was the more accurate out of sample"
        )
    return sentence + "."
