"""Peer of `via-eval did FILE --unit unit --time time --outcome y --first-treated
first_treated --estimator all` (its `twfe_did` and `event_study` estimates and the
pre-trend test): pandas reads the panel (CSV, or Parquet with only the four columns),
pyfixest fits

- the static TWFE DiD: `feols("y ~ D | unit + time", vcov={"CRV1": "unit"})` with
  D = 1 from the first treated period on;
- the event study: `feols("y ~ i(rel_time, ref=-1) | unit + time", vcov={"CRV1": "unit"})`
  with rel_time = time - first_treated; never-treated units get rel_time = -1 (the
  reference), so all their indicators are 0, which is the usual coding (every observed
  relative period, no binning);
- the pre-trend test: `wald_test` of the coefficients before -1 (chi-square W on q df).

Small-sample factor `ssc(k_fixef="nonnested")` (fixest's default, via-eval's
`--small-sample nested`), t on G - 1 df.

    pyfixest_did.py FILE
"""

import re
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf

from common import args, emit

COLS = ["unit", "time", "first_treated", "y"]


def read(path):
    if path.endswith(".parquet"):
        return pd.read_parquet(path, columns=COLS)
    return pd.read_csv(path, usecols=COLS)


def row(t):
    return {
        "estimate": t["Estimate"], "std_error": t["Std. Error"], "p_value": t["Pr(>|t|)"],
        "ci_low": t["2.5%"], "ci_high": t["97.5%"],
    }


def main():
    path = args(1)[0]
    d = read(path)
    treated = d["first_treated"] > 0
    d["D"] = (treated & (d["time"] >= d["first_treated"])).astype(float)
    d["rel_time"] = np.where(treated, d["time"] - d["first_treated"], -1)
    ssc = pf.ssc(k_fixef="nonnested")
    G = int(d["unit"].nunique())
    twfe = pf.feols("y ~ D | unit + time", data=d, vcov={"CRV1": "unit"}, ssc=ssc)
    out = {"n": int(twfe._N), "n_clusters": G, "twfe_did": row(twfe.tidy().loc["D"])}
    out["twfe_did"]["df"] = G - 1
    es = pf.feols("y ~ i(rel_time, ref=-1) | unit + time", data=d, vcov={"CRV1": "unit"}, ssc=ssc)
    tidy = es.tidy()
    coefs = {}
    names = list(tidy.index)
    for nm in names:
        m = re.search(r"(-?\d+)(?:\.0)?\]?$", nm)
        e = int(m.group(1))
        r = row(tidy.loc[nm])
        r["df"] = G - 1
        coefs[str(e)] = r
    out["event_study"] = coefs
    pre = [i for i, nm in enumerate(names) if int(re.search(r"(-?\d+)(?:\.0)?\]?$", nm).group(1)) < -1]
    R = np.zeros((len(pre), len(names)))
    for j, i in enumerate(pre):
        R[j, i] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = es.wald_test(R=R, distribution="chi2")
    out["pretrend_wald"] = {"chi_square": float(es._wald_statistic), "chi_square_p_value": float(w["pvalue"]),
                            "df1": len(pre)}
    emit(out)


if __name__ == "__main__":
    main()
