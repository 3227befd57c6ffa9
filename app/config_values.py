"""What some settings may hold, apart from the list of settings in `app.config` so that it reads
as that list: the methods the `*_MODEL_TYPE` settings may name, and the checks of settings whose
text has a shape of its own (addresses, host names)."""

import ipaddress
from typing import Literal

# The forecasting methods FORECAST_MODEL_TYPE may name (see app/forecast/candidates.py).
ForecastMethod = Literal[
    "auto",
    "ensemble",
    "seasonal_naive",
    "weekday_mean_28",
    "weekday_mean_90",
    "RandomForestRegressor",
    "LinearRegression",
    "ETS",
    "ARIMA",
    "Theta",
    "ProfileTrend",
]
# The detectors ANOMALY_MODEL_TYPE may name (see app/anomaly/detectors.py).
AnomalyMethod = Literal["ECOD", "IsolationForest", "OneClassSVM"]
# What RECOMMENDER_MODEL_TYPE may name: `auto`, or the family of recommenders to evaluate (see
# app/recommend/scorers.py).
RecommenderMethod = Literal["auto", "SVD", "ALS", "EASE"]


def proxy_addresses(proxies: list[str]) -> list[str]:
    """Each entry an IP address, a network, or `*`."""
    for proxy in proxies:
        if proxy != "*":
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network (or `*`)") from None
    return proxies


def host_names(hosts: list[str]) -> list[str]:
    """Lower case, IPv6 addresses without their brackets (`[::1]` is `::1`), without a trailing
    dot; an entry a Host header's name could never equal is refused."""
    names = [host.lower().removeprefix("[").removesuffix("]").removesuffix(".") for host in hosts]
    for name in names:  # a port has one colon before it, an IPv6 address several
        if "/" in name or "]" in name or name.count(":") == 1:
            raise ValueError(
                f"ALLOWED_HOSTS entry {name!r} is not a host name: give names alone, "
                "without a scheme, a port or a path (e.g. bi.example.com)"
            )
    return names
