"""How long the empirical-Bayes fits and the 4,000 ROI draws take for a shop of 15 creators (the
demo store) and of 9,600, as a multiple of one beta-binomial log-likelihood evaluation
(`scipy.stats.betabinom`) of the same creators in the same process.

Run: python -m bench.intervals [--repeats N]. Needs no database.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from roi.intervals import (
    CreatorEvidence,
    beta_binomial_log_likelihood,
    fit_beta_binomial,
    fit_gamma_poisson,
    roi_intervals,
)


def seconds(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def simulated_shop(count: int, seed: int = 1) -> list[CreatorEvidence]:
    """`count` creators, three in four with links (3% conversion on average), the rest codes only."""
    rng = np.random.default_rng(seed)
    creators = []
    for i in range(count):
        cost = int(rng.integers(100, 1500))
        if i % 4:
            clicks = int(rng.integers(30, 2000))
            orders = int(rng.binomial(clicks, rng.beta(2.0, 60.0)))
        else:
            clicks, orders = 0, int(rng.poisson(rng.gamma(3.0, 1 / 300.0) * cost))
        creators.append(CreatorEvidence(i + 1, orders, Decimal(cost), Decimal(orders) * Decimal("52.00"), clicks))
    return creators


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for count in (15, 9600):
        report(count, args.repeats)


def report(count: int, repeats: int) -> None:
    shop = simulated_shop(count)
    linked = [c for c in shop if c.clicks]
    coded = [c for c in shop if not c.clicks]
    clicks, orders = [c.clicks for c in linked], [c.orders for c in linked]
    coded_orders, coded_cost = [c.orders for c in coded], [float(c.cost) for c in coded]
    one = seconds(lambda: beta_binomial_log_likelihood(2.0, 60.0, clicks, orders), repeats * 20)
    beta = seconds(lambda: fit_beta_binomial(clicks, orders), repeats)
    gamma = seconds(lambda: fit_gamma_poisson(coded_orders, coded_cost), repeats)
    draws = seconds(lambda: roi_intervals(shop), repeats)
    print(f"{count} creators, one betabinom log-likelihood of {len(linked)}: {one * 1e3:.2f} ms")
    print(f"  beta-binomial fit: {beta * 1000:.0f} ms = {beta / one:.0f}x")
    print(f"  Gamma-Poisson fit ({len(coded)} code-only): {gamma * 1000:.0f} ms = {gamma / one:.0f}x")
    print(f"  both fits + 4,000 ROI draws, ranks and intervals: {draws * 1000:.0f} ms = {draws / one:.0f}x")


if __name__ == "__main__":
    main()
