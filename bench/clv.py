"""How long the CLV fits take on CDNOW (2,357 customers), as a multiple of one log-likelihood
evaluation of the same data in the same process (the unit the optimizer spends).

Run: python -m bench.clv [--repeats N]. Needs no database.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

from roi.clv import bgnbd_log_likelihood, fit_bgnbd, fit_gamma_gamma, gamma_gamma_log_likelihood

CDNOW = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "cdnow"


def columns(name: str, *wanted: str) -> list[np.ndarray]:
    with (CDNOW / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [np.array([float(row[c]) for row in rows]) for c in wanted]


def seconds(call: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x, t_x, t = columns("cdnow_customers_summary.csv", "frequency", "recency", "T")
    x_m, zbar = columns("cdnow_customers_summary_with_transactions.csv", "x", "zbar")
    one_bg = seconds(lambda: bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), x, t_x, t), args.repeats * 20)
    one_gg = seconds(lambda: gamma_gamma_log_likelihood((6.25, 3.74, 15.44), x_m, zbar), args.repeats * 20)
    bg = seconds(lambda: fit_bgnbd(x, t_x, t), args.repeats)
    gg = seconds(lambda: fit_gamma_gamma(x_m, zbar), args.repeats)
    print(f"BG/NBD fit: {bg * 1000:.0f} ms = {bg / one_bg:.0f}x one log-likelihood ({one_bg * 1e3:.2f} ms)")
    print(f"Gamma-Gamma fit: {gg * 1000:.0f} ms = {gg / one_gg:.0f}x one log-likelihood ({one_gg * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
