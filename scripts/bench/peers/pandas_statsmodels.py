"""Peer of `via-eval compare --outcome y --covariates x1..x8 --se hc2`:
pandas reads the file (CSV, a Dutch `.nl.csv` export or Parquet: see common.read_table),
scipy does Welch's t-test, statsmodels OLS with HC2 (t reference).

    pandas_statsmodels.py FILE
"""

import numpy as np
import statsmodels.api as sm
from scipy import stats

from common import args, emit, read_table

COVS = [f"x{j}" for j in range(1, 9)]


def main():
    (path,) = args(1)
    df = read_table(path, ["arm", "y"] + COVS)
    y = df["y"].to_numpy()
    arm = df["arm"].to_numpy()
    yt, yc = y[arm == 1], y[arm == 0]

    t = stats.ttest_ind(yt, yc, equal_var=False)
    ci = t.confidence_interval(0.95)
    diff = yt.mean() - yc.mean()
    welch = {
        "estimate": diff,
        "std_error": diff / t.statistic,
        "df": t.df,
        "p_value": t.pvalue,
        "ci_low": ci.low,
        "ci_high": ci.high,
    }

    X = sm.add_constant(df[["arm"] + COVS].to_numpy(dtype=float))
    fit = sm.OLS(y, X).fit(cov_type="HC2", use_t=True)
    lo, hi = fit.conf_int(0.05)[1]
    ols = {
        "estimate": fit.params[1],
        "std_error": fit.bse[1],
        "df": fit.df_resid,
        "p_value": fit.pvalues[1],
        "ci_low": lo,
        "ci_high": hi,
    }
    emit({"n": int(len(df)), "welch": welch, "ols_adjusted": ols})


if __name__ == "__main__":
    main()
