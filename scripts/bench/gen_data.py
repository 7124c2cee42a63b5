"""Make the benchmark data sets (run with the benchmark venv's Python: numpy + pyarrow).

    gen_data.py DIR KIND N

KIND is `wide` (arm, y, x1..x8, cluster, fe: 12 columns, the shape of the 842 MB file in
the issue at 10M rows) or `surv` (arm, time, event). The seed depends only on KIND and N,
so a file made twice is the same file. Written in chunks of 1M rows, so the 10M-row file
never needs more than a few hundred MB to make.
"""

import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

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


def main():
    out_dir, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    make = {"wide": wide_chunk, "surv": surv_chunk}[kind]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{kind}_{n}.csv")
    tmp = path + ".part"
    seed = {"wide": 1, "surv": 2}[kind] * 1_000_003 + n
    rng = np.random.default_rng(seed)
    opts = pacsv.WriteOptions(quoting_style="none")
    writer = None
    start = 0
    while start < n:
        m = min(CHUNK, n - start)
        table = make(rng, start, m, n)
        if writer is None:
            writer = pacsv.CSVWriter(tmp, table.schema, write_options=opts)
        writer.write_table(table)
        start += m
    writer.close()
    os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
