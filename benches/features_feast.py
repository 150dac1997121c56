"""Feast on the data benches/features.rs uses, for the README's comparison of point-in-time joins.

- features_at_time: get_historical_features for 1M labels (the entity dataframe) against three
  3M-row feature views (100k keys), the second with a 30-day TTL, the others with none;
  features=['view1:x', 'view2:x', 'view3:x'], full_feature_names=True, then .to_df().

The rows come from the same integer formulas as benches/features_duckdb.py (timestamps are
seconds since the epoch, UTC). Each view is written to a parquet file in a temp directory that
also holds a generated feature_store.yaml (provider local, the file offline store, which is
Feast's Dask store, and a sqlite registry); the entity, sources and views are applied before
timing. The entity dataframe's timestamps are tz-aware with pytz.UTC, as the parquet reads are,
so Feast takes its vectorised path rather than its per-row timezone fix-up.

    pip install feast   # brings pandas, pyarrow and dask; 0.67 was used
    python3 benches/features_feast.py [--labels N] [--view-rows N] [--check]

--labels and --view-rows scale the data (defaults 1_000_000 and 3_000_000). --check also
computes the answer independently with pandas.merge_asof (a few seconds even at full size) and
compares it with Feast's, row by row.

Feast's file store does not keep every label: it left-merges each view on the join key, drops
the pairs outside [label ts - TTL, label ts], and a label whose key has rows but none in that
window loses all its rows, so only labels matched in every view come back (at full size 671_271
of 1M, with sums over those). The values it returns for them agree with the ASOF join's.

Prints one line per measurement: the best of 3 wall times (1 run when the first takes over
60 s), and the peak RSS growth (ru_maxrss read after the runs minus the RSS just before the
first run). The measurement runs in its own child process, so building the data does not hide
its peak. The count and sums (NaN ignored) are printed for the Rust bench to check against.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

N_LABELS = 1_000_000
N_VIEW = 3_000_000
N_KEYS = 100_000
VIEW_PRIMES = (7919, 6151, 3571)
VIEW_TTLS = (None, timedelta(days=30), None)  # Feast: None (or timedelta(0)) is no limit
RUNS = 3
SLOW_RUN_S = 60.0

FEATURES = [f"view{n}:x" for n in range(1, len(VIEW_PRIMES) + 1)]
COLUMNS = [f"view{n}__x" for n in range(1, len(VIEW_PRIMES) + 1)]

FEATURE_STORE_YAML = """\
project: quiver_bench
provider: local
registry:
  registry_type: sql
  path: sqlite:///{dir}/registry.db
  cache_ttl_seconds: 600
offline_store:
  type: file
online_store:
  type: sqlite
  path: {dir}/online.db
entity_key_serialization_version: 3
"""


def current_rss_kib():
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def seconds_to_utc(seconds):
    import pandas as pd
    import pytz

    return pd.to_datetime(seconds, unit="s", utc=True).tz_convert(pytz.UTC)


def labels(n_labels):
    import numpy as np
    import pandas as pd

    j = np.arange(n_labels, dtype=np.int64)
    return pd.DataFrame({
        "lid": j,
        "k": (j * 37) % N_KEYS,
        "event_timestamp": seconds_to_utc((j * 104729) % 100_000_000 + 500),
    })


def view(n_view, prime):
    import numpy as np
    import pandas as pd

    i = np.arange(n_view, dtype=np.int64)
    return pd.DataFrame({
        "k": i % N_KEYS,
        "ts": seconds_to_utc((i * prime) % 100_000_000),
        "x": (i % 997).astype(np.float64),
    })


def build_store(directory, n_view):
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64

    with open(os.path.join(directory, "feature_store.yaml"), "w") as f:
        f.write(FEATURE_STORE_YAML.format(dir=directory))
    entity = Entity(name="k", join_keys=["k"], value_type=ValueType.INT64)
    objects = [entity]
    for n, (prime, ttl) in enumerate(zip(VIEW_PRIMES, VIEW_TTLS), start=1):
        path = os.path.join(directory, f"view{n}.parquet")
        view(n_view, prime).to_parquet(path, index=False)
        source = FileSource(name=f"view{n}_source", path=path, timestamp_field="ts")
        objects.append(FeatureView(
            name=f"view{n}",
            entities=[entity],
            ttl=ttl,
            schema=[Field(name="k", dtype=Int64), Field(name="x", dtype=Float64)],
            source=source,
            online=False,
        ))
    store = FeatureStore(repo_path=directory)
    store.apply(objects)
    return store


def checksums(df):
    return len(df), [float(df[c].sum(skipna=True)) for c in COLUMNS]


def reference(entity_df, n_view):
    """The same answer from pandas.merge_asof: for each label and view, the latest row of its key
    with ts <= the label's ts, and for a TTL, ts >= label ts - TTL (Feast's bound is inclusive)."""
    import pandas as pd

    out = entity_df.sort_values("event_timestamp")
    for n, (prime, ttl) in enumerate(zip(VIEW_PRIMES, VIEW_TTLS), start=1):
        right = view(n_view, prime).rename(columns={"x": f"view{n}__x"}).sort_values("ts")
        out = pd.merge_asof(out, right, left_on="event_timestamp", right_on="ts", by="k",
                            direction="backward", allow_exact_matches=True,
                            tolerance=ttl if ttl else None).drop(columns="ts")
    return out


def features_at_time(n_labels, n_view, check):
    import pandas as pd

    entity_df = labels(n_labels)
    with tempfile.TemporaryDirectory(prefix="quiver_feast_") as directory:
        store = build_store(directory, n_view)
        before = current_rss_kib()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, result = [], None
        for _ in range(RUNS):
            result = None  # so a run's peak does not include the previous run's answer
            start = time.perf_counter()
            result = store.get_historical_features(
                entity_df=entity_df, features=FEATURES, full_feature_names=True).to_df()
            times.append(time.perf_counter() - start)
            if times[0] > SLOW_RUN_S:
                break
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if peak <= peak_before:
        print(f"  (peak {peak // 1024} MiB was reached while building the data)", file=sys.stderr)
    count, sums = checksums(result)
    print(f"feast features_at_time {n_labels:_} labels x 3 views x {n_view:_}: "
          f"best of {len(times)} {min(times):.3f} s, peak RSS growth {(peak - before) / 1024:.0f} MiB, "
          f"count={count}, sums={sums!r}", flush=True)
    if check:
        expected = reference(entity_df, n_view)
        ref_count, ref_sums = checksums(expected)
        print(f"pandas merge_asof reference (every label kept): count={ref_count}, "
              f"sums={ref_sums!r}: {'match' if (count, sums) == (ref_count, ref_sums) else 'differ'}",
              flush=True)
        # Feast's file store drops a label that has no in-window row in some view (see the top)
        matched = expected[expected[COLUMNS].notna().all(axis=1)]
        in_count, in_sums = checksums(matched)
        same_rows = sorted(result["lid"]) == sorted(matched["lid"])
        got = result.set_index("lid")[COLUMNS].sort_index()
        same_values = got.equals(matched.set_index("lid")[COLUMNS].sort_index())
        print(f"pandas merge_asof reference, labels matched in every view: count={in_count}, "
              f"sums={in_sums!r}: "
              f"{'match' if same_rows and same_values else 'MISMATCH'} (row by row)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=int, default=N_LABELS)
    parser.add_argument("--view-rows", type=int, default=N_VIEW)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        features_at_time(args.labels, args.view_rows, args.check)
        return
    import dask
    import feast
    import pandas as pd

    print(f"feast {feast.__version__}, dask {dask.__version__}, pandas {pd.__version__}, "
          f"cpus={os.cpu_count()}", flush=True)
    subprocess.run([sys.executable, __file__, "--child", "--labels", str(args.labels),
                    "--view-rows", str(args.view_rows)] + (["--check"] if args.check else []),
                   check=True)


if __name__ == "__main__":
    main()
