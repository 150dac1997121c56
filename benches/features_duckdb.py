"""DuckDB on the data benches/features.rs uses, for the README's comparison of point-in-time joins.

- ASOF: 1M labels ASOF LEFT JOIN 10M feature rows (100k keys) on k, l.ts >= f.ts;
- features_at_time: 1M labels ASOF LEFT JOIN three 3M-row views, the second with a 30-day TTL.

The rows come from integer formulas over range(0, N), so DataFusion's generate_series can
produce the same ones; each table is materialised (CREATE TABLE ... AS) before timing.

    python3 benches/features_duckdb.py

Prints one line per measurement: best of 3 wall times, and the peak RSS growth (ru_maxrss read
after the runs minus the RSS just before the first run). Each measurement runs in its own child
process, so one measurement's peak does not hide the other's. The count and sums are printed for
the Rust bench to check that it computes the same answer.
"""

import os
import resource
import subprocess
import sys
import time

import duckdb

N_FEATS = 10_000_000
N_LABELS = 1_000_000
N_VIEW = 3_000_000
VIEW_PRIMES = (7919, 6151, 3571)
RUNS = 3

LABELS = f"""
CREATE TABLE labels AS
SELECT range AS lid,
       (range * 37) % 100000 AS k,
       to_timestamp((range * 104729) % 100000000 + 500) AS ts
FROM range(0, {N_LABELS})
"""

FEATS = f"""
CREATE TABLE feats AS
SELECT range % 100000 AS k,
       to_timestamp((range * 7919) % 100000000) AS ts,
       (range % 1000)::DOUBLE / 10.0 AS v
FROM range(0, {N_FEATS})
"""


def view(n, prime):
    return f"""
CREATE TABLE view{n} AS
SELECT range % 100000 AS k,
       to_timestamp((range * {prime}) % 100000000) AS ts,
       (range % 997) * 1.0::DOUBLE AS x
FROM range(0, {N_VIEW})
"""


ASOF = """
SELECT count(*), sum(f.v)
FROM labels l ASOF LEFT JOIN feats f ON l.k = f.k AND l.ts >= f.ts
"""

FEATURES_AT_TIME = """
SELECT count(*), sum(f1.x), sum(CASE WHEN f2.ts > l.ts - INTERVAL 30 DAY THEN f2.x END), sum(f3.x)
FROM labels l
ASOF LEFT JOIN view1 f1 ON l.k = f1.k AND l.ts >= f1.ts
ASOF LEFT JOIN view2 f2 ON l.k = f2.k AND l.ts >= f2.ts
ASOF LEFT JOIN view3 f3 ON l.k = f3.k AND l.ts >= f3.ts
"""


def current_rss_kib():
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def connect():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # so ts - INTERVAL 30 DAY is plain 30 * 86400 s
    return con


def best_of(con, sql):
    before = current_rss_kib()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = con.execute(sql).fetchall()[0]
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if peak <= peak_before:  # building the tables set the peak, so the growth overstates the query
        print(f"  (peak {peak // 1024} MiB was reached while building the tables)", file=sys.stderr)
    return min(times), (peak - before) / 1024, result


def asof():
    con = connect()
    con.execute(LABELS)
    con.execute(FEATS)
    seconds, growth, (count, total) = best_of(con, ASOF)
    print(f"duckdb asof 1M x 10M: best {seconds:.3f} s, peak RSS growth {growth:.0f} MiB, "
          f"count={count}, sum={total!r}")


def features_at_time():
    con = connect()
    con.execute(LABELS)
    for n, prime in enumerate(VIEW_PRIMES, start=1):
        con.execute(view(n, prime))
    seconds, growth, (count, *sums) = best_of(con, FEATURES_AT_TIME)
    print(f"duckdb features_at_time 1M labels x 3 views x 3M: best {seconds:.3f} s, "
          f"peak RSS growth {growth:.0f} MiB, count={count}, sums={sums!r}")


def main():
    if len(sys.argv) > 1:
        {"asof": asof, "features_at_time": features_at_time}[sys.argv[1]]()
        return
    threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"duckdb {duckdb.__version__}, threads={threads}", flush=True)
    for name in ("asof", "features_at_time"):
        subprocess.run([sys.executable, __file__, name], check=True)


if __name__ == "__main__":
    main()
