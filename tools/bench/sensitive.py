"""Speed of the sensitive-content scan on ordinary and pathological inputs.

python tools/bench/sensitive.py
"""

from __future__ import annotations

import timeit
from functools import partial

from engine.sensitive import scan

CASES = {
    "prose (25 words)": "Had a meeting with Alice about the API design and we agreed to ship the "
    "billing export on Friday after the review with Bob and Carol in the office",
    "prose + password": "Deploy notes: the staging password=hunter2-Xy9 rotates on Monday",
    "digit run + letter (100 KB)": "1 " * 50_000 + "x",
    "3,000 key headers": "-----BEGIN PRIVATE KEY-----\nshort\n" * 3_000,
    "2,000 passwords": "".join(f"password=pw{i:06d} " for i in range(2_000)),
    "100 KB word": "a" * 100_000 + "!",
}


def main() -> None:
    for name, text in CASES.items():
        runs = 2000 if len(text) < 200 else 3
        best = min(timeit.repeat(partial(scan, text), number=runs, repeat=3)) / runs
        print(f"{name:30s} {best * 1e6:12.1f} µs")


if __name__ == "__main__":
    main()
