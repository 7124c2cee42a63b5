"""Peer of `via-eval did FILE --unit unit --time time --outcome y --first-treated
first_treated --estimator cs` (its `cs_att_gt` cells and the `cs_simple` aggregation):
Callaway & Sant'Anna (2021) without covariates, never-treated units as controls, varying
base period, analytic influence-function SEs (no bootstrap), simple aggregation.

    cs_did.py csdid|moderndid FILE

- csdid (PyPI, the Python port of R `did` used for via-eval's fixtures):
  `ATTgt(yname="y", gname="first_treated", idname="unit", tname="time",
  control_group="nevertreated").fit(est_method="reg", base_period="varying",
  bstrap=False)`, then `aggte(typec="simple", bstrap=False)`;
- moderndid: `att_gt(..., control_group="nevertreated", est_method="reg",
  base_period="varying", boot=False, cband=False)`, then `aggte(type="simple")`.

Without covariates "reg", "ipw" and "dr" give the same numbers.
"""

import contextlib
import sys
import warnings

import numpy as np
import pandas as pd

from common import args, emit

COLS = ["unit", "time", "first_treated", "y"]


def read(path):
    if path.endswith(".parquet"):
        return pd.read_parquet(path, columns=COLS)
    return pd.read_csv(path, usecols=COLS)


def run_csdid(d):
    from csdid.att_gt import ATTgt

    a = ATTgt(yname="y", gname="first_treated", idname="unit", tname="time", data=d,
              control_group="nevertreated")
    a.fit(est_method="reg", base_period="varying", bstrap=False)
    r = a.results
    cells = {f"{int(g)}|{int(t)}": {"estimate": float(e), "std_error": float(s)}
             for g, t, e, s in zip(r["group"], r["year"], r["att"], r["se"])}
    a.aggte(typec="simple", bstrap=False)
    s = a.atte
    return cells, {"estimate": float(s["overall_att"]), "std_error": float(s["overall_se"])}


def run_moderndid(d):
    import moderndid as md

    r = md.att_gt(data=d, yname="y", tname="time", idname="unit", gname="first_treated",
                  control_group="nevertreated", est_method="reg", base_period="varying",
                  boot=False, cband=False)
    cells = {f"{int(g)}|{int(t)}": {"estimate": float(e), "std_error": float(s)}
             for g, t, e, s in zip(r.groups, r.times, r.att_gt, r.se_gt)}
    s = md.aggte(r, type="simple")
    return cells, {"estimate": float(s.overall_att), "std_error": float(s.overall_se)}


def main():
    which, path = args(2)[:2]
    d = read(path)
    # csdid prints its summary tables: keep standard output for the JSON.
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        cells, simple = {"csdid": run_csdid, "moderndid": run_moderndid}[which](d)
    emit({"n": int(len(d)), "n_units": int(d["unit"].nunique()), "cs_att_gt": cells, "cs_simple": simple})


if __name__ == "__main__":
    main()
