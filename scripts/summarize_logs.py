#!/usr/bin/env python3
"""Summarise Odoo test logs (and extra check lines) into one verdict.

Usage: summarize_logs.py LOG [LOG ...]

Reads Odoo's ``X failed, Y error(s) of Z tests`` report lines, counts skipped
tests, and treats as failures: a run that produced no report, ERROR/CRITICAL
log lines, WARNING lines (the install log must be clean), browser tests that
Odoo would skip silently, and ``CHECK <name>: FAIL`` lines written by the
project's own checks (``CHECK <name>: ok`` counts as a pass). Prints the
problems, then ``N passed, N failed[, N skipped]``; exits 1 on any failure.
"""

import re
import sys

REPORT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
SKIPPED = re.compile(r" skipped (\S+) : ")
CHECK = re.compile(r"^CHECK (\S+): (ok|FAIL)(.*)$")
LEVEL = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) \S+ (\S+): (.*)$")
BROWSER_MISSING = (
    "Chrome executable not found",
    "websocket-client module is not installed",
)
# Warnings that say nothing about our code (kept short and explicit).
TOLERATED = (
    "is a security risk",  # running the test server as root
)


def scan(path, totals, problems):
    reported = False
    with open(path, encoding="utf-8", errors="replace") as log:
        for raw_line in log:
            line = raw_line.rstrip("\n")
            if match := REPORT.search(line):
                failed, errors, run = map(int, match.groups())
                totals["failed"] += failed + errors
                totals["passed"] += run - failed - errors
                reported = True
            elif match := CHECK.match(line):
                totals["passed" if match[2] == "ok" else "failed"] += 1
                if match[2] != "ok":
                    problems.append(f"{path}: check {match[1]} failed{match[3]}")
            elif SKIPPED.search(line):
                totals["skipped"] += 1
            if any(text in line for text in BROWSER_MISSING):
                totals["failed"] += 1
                problems.append(f"{path}: browser tests cannot run: {line}")
            elif (match := LEVEL.match(line)) and not any(t in line for t in TOLERATED):
                if not REPORT.search(line):
                    problems.append(f"{path}: {match[1]} {match[2]}: {match[3][:300]}")
                    if match[1] == "WARNING":
                        totals["failed"] += 1
    return reported


def main(paths):
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    problems = []
    for path in paths:
        if path.endswith(".odoo.log") and not scan(path, totals, problems):
            totals["failed"] += 1
            problems.append(
                f"{path}: Odoo printed no test report (crash or install error?)"
            )
        elif not path.endswith(".odoo.log"):
            scan(path, totals, problems)
    for problem in problems:
        print("  -", problem)
    line = f"{totals['passed']} passed, {totals['failed']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    print(line)
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
