"""Peers of `via-eval compare --outcome Y --permutations N` and `--bootstrap N`:
pandas reads the CSV, then

  perm: scipy.stats.permutation_test, difference in means, labels re-randomised
        (permutation_type="independent"), two-sided, vectorized;
  boot: scipy.stats.bootstrap, difference in means with each arm resampled on its own,
        method="BCa", vectorized.

    scipy_resampling.py perm|boot FILE OUTCOME N_DRAWS SEED [BATCH]

BATCH (default: none, scipy's own default of all draws at once) caps how many draws are
held in memory at a time; the runner sets it only where all-at-once does not fit.
"""

import numpy as np
import pandas as pd
from scipy import stats

from common import args, emit


def diff_means(t, c, axis=-1):
    return np.mean(t, axis=axis) - np.mean(c, axis=axis)


def main():
    a = args(5)
    mode, path, outcome, draws, seed = a[0], a[1], a[2], int(a[3]), int(a[4])
    batch = int(a[5]) if len(a) > 5 and a[5] not in ("", "none") else None
    df = pd.read_csv(path, usecols=["arm", outcome])
    y = df[outcome].to_numpy()
    arm = df["arm"].to_numpy()
    t, c = y[arm == 1], y[arm == 0]
    rng = np.random.default_rng(seed)
    out = {"n": int(len(df)), "estimate": diff_means(t, c), "draws": draws}
    if mode == "perm":
        r = stats.permutation_test(
            (t, c),
            diff_means,
            permutation_type="independent",
            vectorized=True,
            n_resamples=draws,
            alternative="two-sided",
            batch=batch,
            random_state=rng,
        )
        out.update({"statistic": r.statistic, "p_value": r.pvalue})
    elif mode == "boot":
        r = stats.bootstrap(
            (t, c),
            diff_means,
            vectorized=True,
            n_resamples=draws,
            confidence_level=0.95,
            method="BCa",
            batch=batch,
            random_state=rng,
        )
        ci = r.confidence_interval
        out.update({"ci_low": ci.low, "ci_high": ci.high, "std_error": r.standard_error})
    else:
        raise SystemExit(f"unknown mode {mode}")
    emit(out)


if __name__ == "__main__":
    main()
