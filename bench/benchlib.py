"""Helpers the benchmarks share: bulk loading by COPY, percentiles, ratios.

The benchmark scripts run inside ``odoo shell`` (read from standard input),
so they import this module from ``BENCH_DIR``, which ``scripts/bench.sh``
sets to this folder.
"""

import math
import os
from pathlib import Path

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


class CopyStream:
    """The file COPY reads: the rows of a generator as lines of COPY text."""

    def __init__(self, rows):
        self.rows = iter(rows)
        self.count = 0

    def read(self, size=-1):
        size = size if size and size > 0 else 1 << 16
        lines, length = [], 0
        for row in self.rows:
            line = "\t".join(map(_copy_text, row))
            lines.append(line)
            length += len(line) + 1
            self.count += 1
            if length >= size:
                break
        return "\n".join(lines) + "\n" if lines else ""


def copy_rows(cr, table, columns, rows):
    """``COPY table (columns) FROM STDIN`` the rows; return how many."""
    stream = CopyStream(rows)
    query = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    cr._obj.copy_expert(query, stream, size=1 << 16)
    return stream.count


def first_free_id(cr, table):
    cr.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cr.fetchone()[0]


def advance_sequence(cr, table):
    """Move the id sequence past the ids written by COPY."""
    cr.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        f"(SELECT GREATEST(MAX(id), 1) FROM {table}))",
        (table,),
    )


def percentile(values, pct):
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def results_path(name, module_path):
    """``bench/results/<name>``: ``BENCH_RESULTS_DIR``, else beside the module."""
    default = Path(module_path).parent / "bench" / "results"
    folder = Path(os.environ.get("BENCH_RESULTS_DIR") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
