"""The customers: user documents with unique usernames, a home address and their dates.

Why apart: users are drawn once, before any transaction, and each transaction ships to its
user's home address most of the time.
"""

from typing import Any

import numpy as np

from app.dev.demo.draws import addresses, pick, uuid4s
from app.dev.demo.spec import DAY_MS, DemoDataSpec, datetimes, period_ms
from app.dev.demo.vocabulary import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES


def generate_users(spec: DemoDataSpec, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Customers registered before the period, with unique usernames and a home address."""
    n = spec.users
    start_ms, end_ms = period_ms(spec)
    ids = uuid4s(rng, n)
    firsts, lasts = pick(rng, FIRST_NAMES, n), pick(rng, LAST_NAMES, n)
    numbers = rng.integers(1, 1000, n).tolist()
    domains = pick(rng, EMAIL_DOMAINS, n)
    # Registrations lean recent: more customers joined lately than three years ago.
    registered = start_ms - (rng.random(n) ** 1.5 * 3 * 365 * DAY_MS).astype(np.int64) - 1
    login_from = np.maximum(registered, end_ms - 30 * DAY_MS)
    last_login = login_from + (rng.random(n) * (end_ms - login_from)).astype(np.int64)
    updated = registered + (rng.random(n) * (last_login - registered)).astype(np.int64)
    homes = addresses(rng, n)
    reg_dt, login_dt, upd_dt = datetimes(registered), datetimes(last_login), datetimes(updated)
    taken: set[str] = set()
    users = []
    for i in range(n):
        username = f"{firsts[i].lower()}.{lasts[i].lower()}{numbers[i]}"
        if username in taken:
            username = f"{username}_{i}"
        taken.add(username)
        users.append(
            {
                "userId": ids[i],
                "username": username,
                "email": f"{username}@{domains[i]}",
                "registrationDate": reg_dt[i],
                "lastLogin": login_dt[i],
                "address": homes[i],
                "createdAt": reg_dt[i],
                "updatedAt": upd_dt[i],
            }
        )
    return users
