#!/usr/bin/env python3
"""Golden files for Quiver's feature-engineering joins: ASOF joins and
time-window aggregates.

    python3 tests/oracle/features_oracle.py

needs numpy and duckdb (``pip install duckdb numpy``).  It draws random data
with ``numpy.random.default_rng(20261122)`` and writes, under
tests/oracle/golden/features/:

* ``asof_labels.csv`` (lid,k1,k2,ts) and ``asof_feats.csv`` (fid,k1,k2,ts,v):
  the two sides of an ASOF join, with NULL keys and timestamps, shuffled
  feature rows, and exact duplicate feature rows (same k1, k2, ts and v);
* ``asof_{ge,gt,le,lt}_{k1,k1k2}.csv`` (lid,f_ts,v): DuckDB's
  ``ASOF LEFT JOIN`` for the operators >=, >, <=, < and the key sets (k1)
  and (k1, k2), one row per label in lid order;
* ``wf_source.csv`` (entity,ts,amount) and ``wf_labels.csv`` (lid,entity,ts):
  event data and label points for window aggregates;
* ``wf_expected.csv`` (lid,window_seconds,count,sum,mean,min,max,stddev):
  DuckDB's aggregates over the half-open window (label ts - w, label ts] for
  w = 1h, 7d and 30d.

Every expected value is computed by DuckDB from the CSV files as read back
from disk, and checked against an independent pure-Python / numpy
computation; the script fails loudly if they disagree.  Deterministic: fixed
seed, DuckDB run on one thread, floats written with repr(); running it
twice gives byte-identical files.  See README.md, section "Features".
"""

import math
import platform
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np

HERE = Path(__file__).resolve().parent
OUTDIR = HERE / "golden" / "features"

SEED = 20261122

# ASOF
N_LABELS = 2000
N_FEATS_BASE = 5800      # distinct (k1, k2, ts) feature rows
N_FEAT_DUPS = 200        # exact copies (new fid, same k1, k2, ts, v)
K1_RANGE = 300
ASOF_TS_MAX = 100000
ASOF_EXACT_SHARE = 0.30  # labels copying (k1, k2, ts) of a feature row

OPS = [(">=", "ge"), (">", "gt"), ("<=", "le"), ("<", "lt")]
KEYSETS = [("k1", ("k1",)), ("k1k2", ("k1", "k2"))]

# Window aggregates
N_SOURCE_BASE = 19700
N_SOURCE_TIES = 300      # extra rows sharing (entity, ts) with another row
N_ENTITIES = 50
N_WF_LABELS = 1500
WF_ENTITY_MAX = 54       # label entities 50..54 have no source rows
WF_TS_MAX = 60 * 86400   # 5184000
WINDOWS = [(3600, "1h"), (604800, "7d"), (2592000, "30d")]
WF_EXACT_SHARE = 0.15    # label ts == some source ts of the entity
WF_EDGE_SHARE = 0.15     # label ts == some source ts + w
REL_TOL = 1e-9

VERSIONS = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "duckdb": duckdb.__version__,
}


# --------------------------------------------------------------------------
# I/O
# --------------------------------------------------------------------------

def fmt(v):
    """CSV field: NULL -> empty, int -> digits, float -> repr (round-trips)."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        assert math.isfinite(f), f
        if f == 0.0:
            f = 0.0          # no "-0.0"
        return repr(f)
    s = str(v)
    assert s and not any(c in s for c in ',"\n\r '), s
    return s


def write_csv(name, header, rows):
    lines = [",".join(header)]
    for r in rows:
        assert len(r) == len(header), r
        lines.append(",".join(fmt(v) for v in r))
    path = OUTDIR / name
    path.write_text("\n".join(lines) + "\n")
    return path


def read_csv(name, types):
    """Reads a file written by write_csv back into a list of tuples."""
    conv = {"int": int, "float": float, "text": str}
    text = (OUTDIR / name).read_text().splitlines()
    header = text[0].split(",")
    assert header == [c for c, _ in types], (header, types)
    out = []
    for line in text[1:]:
        fields = line.split(",")
        assert len(fields) == len(types), line
        out.append(tuple(None if f == "" else conv[t](f)
                         for f, (_, t) in zip(fields, types)))
    return out


def duck_table(con, table, name, types):
    sqlt = {"int": "BIGINT", "float": "DOUBLE", "text": "VARCHAR"}
    cols = ", ".join(f"'{c}': '{sqlt[t]}'" for c, t in types)
    path = str(OUTDIR / name).replace("'", "''")
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', "
                f"header = true, delim = ',', quote = '', nullstr = '', "
                f"auto_detect = false, columns = {{{cols}}})")


def with_nulls(rng, values, share):
    """values as a Python list, with round(share * n) entries set to None."""
    out = [int(x) if isinstance(x, (np.integer,)) else x for x in values]
    n = len(out)
    for i in rng.choice(n, size=int(round(share * n)), replace=False):
        out[int(i)] = None
    return out


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b), 1e-300) or a == b


# --------------------------------------------------------------------------
# ASOF join
# --------------------------------------------------------------------------

LABEL_TYPES = [("lid", "int"), ("k1", "int"), ("k2", "text"), ("ts", "int")]
FEAT_TYPES = [("fid", "int"), ("k1", "int"), ("k2", "text"), ("ts", "int"),
              ("v", "float")]
ASOF_OUT_TYPES = [("lid", "int"), ("f_ts", "int"), ("v", "float")]


def gen_asof(rng):
    # Feature rows with distinct (k1, k2, ts), NULL counted as a value.
    seen, base = set(), []
    while len(base) < N_FEATS_BASE:
        k1 = int(rng.integers(0, K1_RANGE))
        k2 = "a" if rng.random() < 0.5 else "b"
        ts = int(rng.integers(0, ASOF_TS_MAX + 1))
        if (k1, k2, ts) in seen:
            continue
        seen.add((k1, k2, ts))
        base.append([k1, k2, ts])
    n = len(base)
    for i in rng.choice(n, size=int(round(0.03 * n)), replace=False):
        base[int(i)][0] = None
    for i in rng.choice(n, size=int(round(0.02 * n)), replace=False):
        base[int(i)][2] = None
    vals = np.round(rng.normal(0.0, 10.0, size=n), 6)
    rows = [[k1, k2, ts, float(v) + 0.0] for (k1, k2, ts), v in zip(base, vals)]
    # Nulling can make keys collide, e.g. (None, 'a', 5) twice: such rows
    # get the v of the first one, so equal keys always carry equal v.
    first_v = {}
    for r in rows:
        k = (r[0], r[1], r[2])
        if k in first_v:
            r[3] = first_v[k]
        else:
            first_v[k] = r[3]
    # Exact duplicates, drawn among the rows with non-NULL k1 and ts.
    full = [i for i, r in enumerate(rows) if r[0] is not None and r[2] is not None]
    dup_src = rng.choice(len(full), size=N_FEAT_DUPS, replace=False)
    rows += [list(rows[full[int(j)]]) for j in dup_src]
    # fid, then shuffle the written order.
    feats = [[fid] + r for fid, r in enumerate(rows)]
    order = rng.permutation(len(feats))
    feats = [feats[int(i)] for i in order]

    vmap = {}
    for fid, k1, k2, ts, v in feats:
        assert vmap.setdefault((k1, k2, ts), v) == v, (k1, k2, ts)

    # Labels: a share copies (k1, k2, ts) of a feature row with full keys.
    labels = []
    nonnull_feats = [r for r in feats if r[1] is not None and r[3] is not None]
    exact = rng.random(N_LABELS) < ASOF_EXACT_SHARE
    for lid in range(N_LABELS):
        if exact[lid]:
            f = nonnull_feats[int(rng.integers(0, len(nonnull_feats)))]
            labels.append([lid, f[1], f[2], f[3]])
        else:
            labels.append([lid, int(rng.integers(0, K1_RANGE)),
                           "a" if rng.random() < 0.5 else "b",
                           int(rng.integers(0, ASOF_TS_MAX + 1))])
    # NULLs only on labels that do not copy a feature row, so the share of
    # exact matches stays as drawn.
    free = np.flatnonzero(~exact)
    for i in rng.choice(free, size=int(round(0.03 * N_LABELS)), replace=False):
        labels[int(i)][1] = None
    for i in rng.choice(free, size=int(round(0.02 * N_LABELS)), replace=False):
        labels[int(i)][3] = None
    return labels, feats


def brute_asof(labels, feats, op, keys):
    """For each label: among feature rows with equal non-NULL keys and a
    non-NULL ts satisfying ``l.ts op f.ts``, the greatest f.ts for >=/> or
    the smallest for <=/<.  Returns {lid: (f_ts, v)}."""
    kidx = {"k1": 1, "k2": 2}
    groups = defaultdict(list)
    for f in feats:
        if f[3] is None or any(f[kidx[k]] is None for k in keys):
            continue
        groups[tuple(f[kidx[k]] for k in keys)].append((f[3], f[4]))
    cond = {">=": lambda lt, ft: lt >= ft, ">": lambda lt, ft: lt > ft,
            "<=": lambda lt, ft: lt <= ft, "<": lambda lt, ft: lt < ft}[op]
    backward = op in (">=", ">")
    out = {}
    for lab in labels:
        lid, lts = lab[0], lab[3]
        best = (None, None)
        if lts is not None and all(lab[kidx[k]] is not None for k in keys):
            cands = [c for c in groups.get(tuple(lab[kidx[k]] for k in keys), [])
                     if cond(lts, c[0])]
            if cands:
                bts = (max if backward else min)(c[0] for c in cands)
                vs = {c[1] for c in cands if c[0] == bts}
                assert len(vs) == 1, (lid, bts, vs)
                best = (bts, vs.pop())
        out[lid] = best
    return out


def asof(con):
    rng = np.random.default_rng(SEED)
    labels, feats = gen_asof(rng)
    write_csv("asof_labels.csv", [c for c, _ in LABEL_TYPES], labels)
    write_csv("asof_feats.csv", [c for c, _ in FEAT_TYPES], feats)
    # Everything below works on the files as read back.
    labels = read_csv("asof_labels.csv", LABEL_TYPES)
    feats = read_csv("asof_feats.csv", FEAT_TYPES)
    duck_table(con, "labels", "asof_labels.csv", LABEL_TYPES)
    duck_table(con, "feats", "asof_feats.csv", FEAT_TYPES)

    fkeys = defaultdict(list)
    for f in feats:
        fkeys[(f[1], f[2], f[3])].append(f)
    n_dups = sum(len(g) - 1 for g in fkeys.values())
    full_keys = {k for k in fkeys if k[0] is not None and k[2] is not None}
    n_exact = sum(1 for l in labels if (l[1], l[2], l[3]) in full_keys)
    assert n_exact >= 0.2 * N_LABELS, n_exact
    assert len({f[0] for f in feats}) == len(feats)
    out_of_order = sum(1 for a, b in zip(feats, feats[1:])
                       if a[3] is not None and b[3] is not None and b[3] < a[3])
    assert out_of_order > len(feats) // 4, out_of_order
    info = {
        "labels": len(labels), "feats": len(feats),
        "duplicate_feat_rows": n_dups,
        "labels_ts_equal_feature": n_exact,
        "labels_null_k1": sum(l[1] is None for l in labels),
        "labels_null_ts": sum(l[3] is None for l in labels),
        "feats_null_k1": sum(f[1] is None for f in feats),
        "feats_null_ts": sum(f[3] is None for f in feats),
    }

    for op, suffix in OPS:
        for kname, keys in KEYSETS:
            on = " AND ".join(f"l.{k} = f.{k}" for k in keys)
            sql = (f"SELECT l.lid, f.ts AS f_ts, f.v FROM labels l "
                   f"ASOF LEFT JOIN feats f ON {on} AND l.ts {op} f.ts "
                   f"ORDER BY l.lid")
            res = con.execute(sql).fetchall()
            assert len(res) == N_LABELS, (op, kname, len(res))
            assert [r[0] for r in res] == list(range(N_LABELS)), (op, kname)
            ref = brute_asof(labels, feats, op, keys)
            bad = [(r, ref[r[0]]) for r in res if (r[1], r[2]) != ref[r[0]]]
            if bad:
                raise AssertionError(
                    f"DuckDB ASOF {op} on {kname} disagrees with brute force "
                    f"on {len(bad)} rows, e.g. {bad[:5]}")
            name = f"asof_{suffix}_{kname}.csv"
            write_csv(name, [c for c, _ in ASOF_OUT_TYPES], res)
            assert read_csv(name, ASOF_OUT_TYPES) == res
            info[f"unmatched_{suffix}_{kname}"] = sum(r[1] is None for r in res)
    return info


# --------------------------------------------------------------------------
# Window aggregates
# --------------------------------------------------------------------------

SOURCE_TYPES = [("entity", "int"), ("ts", "int"), ("amount", "float")]
WF_LABEL_TYPES = [("lid", "int"), ("entity", "int"), ("ts", "int")]
WF_OUT_TYPES = [("lid", "int"), ("window_seconds", "int"), ("count", "int"),
                ("sum", "float"), ("mean", "float"), ("min", "float"),
                ("max", "float"), ("stddev", "float")]


def gen_wf(rng):
    ent = rng.integers(0, N_ENTITIES, size=N_SOURCE_BASE)
    ts = rng.integers(0, WF_TS_MAX + 1, size=N_SOURCE_BASE)
    src = [[int(e), int(t)] for e, t in zip(ent, ts)]
    # Ties: extra rows with the (entity, ts) of an existing row.
    for j in rng.choice(N_SOURCE_BASE, size=N_SOURCE_TIES, replace=False):
        src.append(list(src[int(j)]))
    amounts = np.round(rng.lognormal(3.0, 1.0, size=len(src)), 4)
    amounts = with_nulls(rng, [float(a) for a in amounts], 0.05)
    src = [r + [a] for r, a in zip(src, amounts)]
    src = [src[int(i)] for i in rng.permutation(len(src))]

    by_ent = defaultdict(list)
    for e, t, _ in src:
        by_ent[e].append(t)
    labels = []
    kind = rng.random(N_WF_LABELS)
    for lid in range(N_WF_LABELS):
        e = int(rng.integers(0, WF_ENTITY_MAX + 1))
        tl = by_ent.get(e)
        t = int(rng.integers(0, WF_TS_MAX + 1))
        if tl and kind[lid] < WF_EXACT_SHARE:
            t = tl[int(rng.integers(0, len(tl)))]
        elif tl and kind[lid] < WF_EXACT_SHARE + WF_EDGE_SHARE:
            w = WINDOWS[int(rng.integers(0, len(WINDOWS)))][0]
            ok = [x for x in tl if x + w <= WF_TS_MAX]
            t = ok[int(rng.integers(0, len(ok)))] + w
        labels.append([lid, e, t])
    return labels, src


def wf(con):
    rng = np.random.default_rng(SEED).spawn(1)[0]
    labels, src = gen_wf(rng)
    write_csv("wf_source.csv", [c for c, _ in SOURCE_TYPES], src)
    write_csv("wf_labels.csv", [c for c, _ in WF_LABEL_TYPES], labels)
    src = read_csv("wf_source.csv", SOURCE_TYPES)
    labels = read_csv("wf_labels.csv", WF_LABEL_TYPES)
    duck_table(con, "source", "wf_source.csv", SOURCE_TYPES)
    duck_table(con, "wlabels", "wf_labels.csv", WF_LABEL_TYPES)

    s_ent = np.array([r[0] for r in src], dtype=np.int64)
    s_ts = np.array([r[1] for r in src], dtype=np.int64)
    s_amt = np.array([np.nan if r[2] is None else r[2] for r in src])
    ts_set = defaultdict(set)
    for e, t, _ in src:
        ts_set[e].add(t)
    n_ties = len(src) - len({(e, t) for e, t, _ in src})
    n_exact = sum(1 for _, e, t in labels if t in ts_set[e])
    n_edge = {w: sum(1 for _, e, t in labels if t - w in ts_set[e])
              for w, _ in WINDOWS}
    n_edge_any = sum(1 for _, e, t in labels
                     if any(t - w in ts_set[e] for w, _ in WINDOWS))
    assert n_exact >= 0.1 * N_WF_LABELS, n_exact
    assert n_edge_any >= 0.1 * N_WF_LABELS, n_edge_any
    assert n_ties > 0

    parts = [
        f"SELECT l.lid, {w} AS window_seconds, count(s.amount) AS count, "
        f"sum(s.amount) AS sum, avg(s.amount) AS mean, min(s.amount) AS min, "
        f"max(s.amount) AS max, stddev_samp(s.amount) AS stddev "
        f"FROM wlabels l LEFT JOIN source s ON s.entity = l.entity "
        f"AND s.ts > l.ts - {w} AND s.ts <= l.ts GROUP BY l.lid"
        for w, _ in WINDOWS]
    sql = " UNION ALL ".join(f"({p})" for p in parts) + \
        " ORDER BY lid, window_seconds"
    res = con.execute(sql).fetchall()
    assert len(res) == N_WF_LABELS * len(WINDOWS), len(res)
    res = [tuple(int(x) if i < 3 else (None if x is None else float(x))
                 for i, x in enumerate(r)) for r in res]
    assert [(r[0], r[1]) for r in res] == [
        (lid, w) for lid in range(N_WF_LABELS) for w, _ in WINDOWS]

    # Brute force with numpy, for every (lid, window) pair.
    lab = {lid: (e, t) for lid, e, t in labels}
    for r in res:
        e, t = lab[r[0]]
        w = r[1]
        m = (s_ent == e) & (s_ts > t - w) & (s_ts <= t) & ~np.isnan(s_amt)
        x = s_amt[m]
        n = int(x.size)
        exp = (n,
               float(np.sum(x)) if n else None,
               float(np.mean(x)) if n else None,
               float(np.min(x)) if n else None,
               float(np.max(x)) if n else None,
               float(np.std(x, ddof=1)) if n >= 2 else None)
        assert r[2] == exp[0], (r, exp)
        for got, want in zip(r[3:], exp[1:]):
            if not close(got, want):
                raise AssertionError(
                    f"DuckDB window aggregate disagrees with numpy: {r} vs {exp}")
        assert r[5] == exp[3] and r[6] == exp[4], (r, exp)   # min/max exact

    write_csv("wf_expected.csv", [c for c, _ in WF_OUT_TYPES], res)
    assert read_csv("wf_expected.csv", WF_OUT_TYPES) == res
    info = {
        "source": len(src), "labels": len(labels),
        "source_null_amount": int(np.isnan(s_amt).sum()),
        "source_rows_tied_on_entity_ts": n_ties,
        "labels_ts_equal_source_ts": n_exact,
        "labels_without_source_entity": sum(1 for _, e, _ in labels
                                            if e >= N_ENTITIES),
    }
    for w, wn in WINDOWS:
        rows = [r for r in res if r[1] == w]
        info[f"labels_ts_eq_source_plus_{wn}"] = n_edge[w]
        info[f"count0_{wn}"] = sum(r[2] == 0 for r in rows)
        info[f"count1_{wn}"] = sum(r[2] == 1 for r in rows)
    return info


def main():
    OUTDIR.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    print("versions " + "  ".join(f"{k}={v}" for k, v in VERSIONS.items()))
    for name, fn in [("asof", asof), ("window", wf)]:
        res = fn(con)
        print(f"{name:7s} " + "  ".join(f"{k}={v}" for k, v in res.items()))
    for p in sorted(OUTDIR.glob("*.csv")):
        n = len(p.read_text().splitlines()) - 1
        print(f"  {p.relative_to(HERE)}  {n} rows  {p.stat().st_size} bytes")


if __name__ == "__main__":
    sys.exit(main())
