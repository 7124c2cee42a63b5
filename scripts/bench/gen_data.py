"""Make the benchmark data sets (run with the benchmark venv's Python: numpy + pyarrow).

    gen_data.py DIR KIND N

    gen_data.py DIR KIND N parquet     # also write DIR/KIND_N.parquet (same rows)
    gen_data.py DIR KIND N nl          # only DIR/KIND_N.nl.csv: the same rows as a Dutch
                                       # spreadsheet export (every field quoted, `;`
                                       # between fields, decimal commas)

KIND is `wide` (arm, y, x1..x8, cluster, fe: 12 columns, the shape of the 842 MB file in
the issue at 10M rows), `surv` (arm, time, event), `panel` (a long staggered-adoption
panel: N/10 units x 10 periods; unit, time, first_treated, y and three columns `did` does
not use: x1, x2, region) or `obs` (an observational comparison with selection on ten
covariates: treat, y, x1..x10). The seed depends only on KIND and N, so a file made twice
is the same file, and the `.csv`, `.parquet` and `.nl.csv` files of one KIND and N hold the
same rows. Written in chunks of 1M rows: making the 10^8-row files (7.4 GB of CSV) never
holds more than one chunk (a few hundred MB) in memory.
"""

import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK = 1_000_000
N_CLUSTERS = 1_000
N_FE = 1_000
BETA = np.array([0.30, -0.20, 0.15, 0.10, -0.05, 0.25, 0.05, -0.10])


def wide_chunk(rng, start, m, n):
    arm = rng.integers(0, 2, m, dtype=np.int64)
    x = rng.normal(size=(m, 8))
    # Some covariates look like the pilots' (age-like, 0/1, years of schooling).
    x[:, 1] = np.round(40 + 10 * x[:, 1])
    x[:, 2] = (x[:, 2] > 0.3).astype(float)
    x[:, 3] = np.round(12 + 2.5 * x[:, 3])
    x = np.round(x, 6)
    # Clusters of equal-ish size: unit i goes to cluster floor(i * G / n), then a few
    # percent of units are moved to a random cluster.
    idx = np.arange(start, start + m, dtype=np.int64)
    cluster = (idx * N_CLUSTERS) // n
    move = rng.random(m) < 0.05
    cluster[move] = rng.integers(0, N_CLUSTERS, int(move.sum()))
    fe = rng.integers(0, N_FE, m, dtype=np.int64)
    # Cluster and fixed-effect shocks: deterministic functions of the label.
    c_eff = np.sin(cluster * 12.9898) * 0.5
    f_eff = np.cos(fe * 78.233) * 0.8
    xs = x.copy()
    xs[:, 1] = (xs[:, 1] - 40) / 10
    xs[:, 3] = (xs[:, 3] - 12) / 2.5
    y = 1.0 + 0.05 * arm + xs @ BETA + c_eff + f_eff + rng.normal(size=m) * (1.0 + 0.3 * arm)
    y = np.round(y, 6)
    cols = {"arm": arm, "y": y}
    for j in range(8):
        cols[f"x{j + 1}"] = x[:, j]
    cols["cluster"] = cluster
    cols["fe"] = fe
    return pa.table(cols)


def surv_chunk(rng, start, m, n):
    arm = rng.integers(0, 2, m, dtype=np.int64)
    rate = np.where(arm == 1, 0.050, 0.058)
    t_event = rng.exponential(1.0 / rate)
    t_cens = rng.uniform(6.0, 90.0, m)
    follow = np.minimum(t_cens, 60.0)
    event = (t_event <= follow).astype(np.int64)
    time = np.minimum(t_event, follow)
    # Two decimals: many ties, as in months with a day resolution.
    time = np.maximum(np.round(time, 2), 0.01)
    return pa.table({"arm": arm, "time": time, "event": event})


PERIODS = 10
# Cohorts (first treated period; 0 = never) and their shares of the units.
COHORTS = np.array([0, 4, 6, 8])
COHORT_P = np.array([0.4, 0.2, 0.2, 0.2])


def panel_chunk(rng, start, m, n):
    """Rows start..start+m of the panel (m and start multiples of PERIODS): staggered
    adoption, unit and period effects, an effect that grows with the time since the
    start (so the static TWFE estimate is biased and the cohort-time effects are not)."""
    units = m // PERIODS
    u0 = start // PERIODS
    unit = np.repeat(np.arange(u0, u0 + units, dtype=np.int64), PERIODS) + 1
    time = np.tile(np.arange(1, PERIODS + 1, dtype=np.int64), units)
    first_u = rng.choice(COHORTS, size=units, p=COHORT_P)
    alpha_u = rng.normal(size=units) + 0.3 * (first_u > 0)  # level differences by cohort
    first = np.repeat(first_u, PERIODS)
    treated = (first > 0) & (time >= first)
    effect = np.where(treated, 0.5 + 0.1 * (time - first), 0.0)
    y = np.repeat(alpha_u, PERIODS) + 0.2 * time + effect + rng.normal(size=m)
    return pa.table({
        "unit": unit,
        "time": time,
        "first_treated": first,
        "y": np.round(y, 6),
        "x1": np.round(rng.normal(size=m), 6),
        "x2": np.round(rng.uniform(size=m), 6),
        "region": np.repeat(rng.integers(1, 13, units, dtype=np.int64), PERIODS),
    })


OBS_GAMMA = np.array([0.4, -0.3, 0.25, 0.2, -0.2, 0.15, 0.1, -0.1, 0.3, -0.25])
OBS_BETA = np.array([1.0, 0.5, -0.5, 0.8, 0.3, -0.2, 0.4, 0.1, -0.6, 0.2])


def obs_chunk(rng, start, m, n):
    """Selection on observables: the participation odds and the outcome both depend on
    the ten covariates (mixed: normal, 0/1, counts); true ATT 1.0."""
    x = rng.normal(size=(m, 10))
    x[:, 2] = (x[:, 2] > 0.2).astype(float)  # 0/1
    x[:, 5] = np.round(40 + 10 * x[:, 5])  # age-like
    x[:, 7] = (x[:, 7] > -0.5).astype(float)  # 0/1
    x = np.round(x, 6)
    xs = x.copy()
    xs[:, 5] = (xs[:, 5] - 40) / 10
    p = 1 / (1 + np.exp(-(-1.0 + xs @ OBS_GAMMA)))
    treat = (rng.random(m) < p).astype(np.int64)
    y = 2.0 + xs @ OBS_BETA + 1.0 * treat + rng.normal(size=m)
    cols = {"treat": treat, "y": np.round(y, 6)}
    for j in range(10):
        cols[f"x{j + 1}"] = x[:, j]
    return pa.table(cols)


def dutch(table):
    """The chunk as a Dutch spreadsheet export writes it: every value as text with a
    decimal comma (the same digits as the plain file, which the CSV writer formats with
    the same cast)."""
    return pa.table({
        name: pc.replace_substring(pc.cast(table[name], pa.string()), ".", ",")
        for name in table.column_names
    })


def main():
    out_dir, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    extra = sys.argv[4] if len(sys.argv) > 4 else ""
    want_parquet = extra == "parquet"
    want_dutch = extra == "nl"
    make = {"wide": wide_chunk, "surv": surv_chunk, "panel": panel_chunk, "obs": obs_chunk}[kind]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{kind}_{n}.nl.csv" if want_dutch else f"{kind}_{n}.csv")
    tmp = path + ".part"
    seed = {"wide": 1, "surv": 2, "panel": 3, "obs": 4}[kind] * 1_000_003 + n
    rng = np.random.default_rng(seed)
    if want_dutch:
        opts = pacsv.WriteOptions(quoting_style="all_valid", delimiter=";")
    else:
        opts = pacsv.WriteOptions(quoting_style="none")
    writer = None
    pq_path = os.path.join(out_dir, f"{kind}_{n}.parquet")
    pq_tmp = pq_path + ".part"
    pq_writer = None
    start = 0
    while start < n:
        m = min(CHUNK, n - start)
        table = make(rng, start, m, n)
        if pq_writer is None and want_parquet:
            pq_writer = pq.ParquetWriter(pq_tmp, table.schema)
        if pq_writer is not None:
            pq_writer.write_table(table)  # one row group per chunk of 1M rows
        if want_dutch:
            table = dutch(table)
        if writer is None:
            writer = pacsv.CSVWriter(tmp, table.schema, write_options=opts)
        writer.write_table(table)
        start += m
    writer.close()
    if pq_writer is not None:
        pq_writer.close()
        os.replace(pq_tmp, pq_path)
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
