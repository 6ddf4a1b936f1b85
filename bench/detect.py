"""Detector speed: each long text that once made the detectors quadratic, timed whole and at a
tenth of its length; a linear detector takes about ten times as long for the whole text.

Run: ``.venv/bin/python bench/detect.py``. Prints figures and ratios, asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_detect import PATHOLOGICAL_TEXTS

from archiver.release.detect import detect


def seconds(text: str, names: list[str]) -> float:
    """Return the best of three timings of ``detect(text, names)``, in seconds."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        detect(text, names)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print, per text: its length, the time for a tenth and for the whole, and their ratio."""
    print(f"{'text':45} {'chars':>8} {'tenth s':>8} {'whole s':>8} {'ratio':>6}")
    for label, text, names, _ in PATHOLOGICAL_TEXTS:
        tenth, whole = seconds(text[: len(text) // 10], names), seconds(text, names)
        print(f"{label:45} {len(text):8} {tenth:8.3f} {whole:8.3f} {whole / max(tenth, 1e-9):6.1f}")


if __name__ == "__main__":
    main()
