"""What a scenario's `portico serve` wrote to its log: lines by level, tracebacks. A
traceback or an ERROR line is a problem (docs/architecture.md: an ERROR line is a bug)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bench.chaos.scenarios import Report

# "WARNING portico.uploads [request id]: message" (portico/log_setup.py FORMAT)
LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) ")


def read(log: Path) -> tuple[str, Counter[str]]:
    """The log's text, and its lines counted by "LEVEL logger"."""
    text = log.read_text(errors="replace") if log.exists() else ""
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if found := LINE.match(line):
            counts[f"{found[1]} {found[2]}"] += 1
    return text, counts


def check(report: Report, log: Path) -> Counter[str]:
    """Add the log's figures to the report, and a problem for tracebacks and ERRORs; the
    lines counted by "LEVEL logger"."""
    text, counts = read(log)
    tracebacks = text.count("Traceback (most recent call last)")
    warnings = {k.split()[1]: n for k, n in sorted(counts.items()) if k.startswith("WARNING ")}
    errors = sum(n for k, n in counts.items() if k.startswith(("ERROR ", "CRITICAL ")))
    report.figures["server log"] = (
        f"{len(text.splitlines())} lines, warnings {warnings or 0}, errors {errors}, "
        f"tracebacks {tracebacks}"
    )
    if tracebacks or errors:
        first = next((line for line in text.splitlines() if line.startswith("ERROR")), "")
        report.problems.append(
            f"{tracebacks} tracebacks and {errors} ERROR lines in the server log {first[:200]}"
        )
    return counts
