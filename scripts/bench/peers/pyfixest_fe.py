"""Peer of `via-eval compare --outcome y --covariates x1..x8 --fe fe --cluster cluster --se cr1`
(its `ols_fe` estimate): pandas reads the CSV, pyfixest absorbs `fe` and clusters by
`cluster` (CRV1).

    pyfixest_fe.py FILE [K_FIXEF]

K_FIXEF is pyfixest's small-sample rule for counting the absorbed levels in k
(`ssc(k_fixef=...)`; pyfixest's default is "nonnested").
"""

import pandas as pd
import pyfixest as pf

from common import args, emit

COVS = [f"x{j}" for j in range(1, 9)]


def main():
    a = args(1)
    path = a[0]
    k_fixef = a[1] if len(a) > 1 else "nonnested"
    df = pd.read_csv(path, usecols=["arm", "y"] + COVS + ["cluster", "fe"])
    fml = "y ~ arm + " + " + ".join(COVS) + " | fe"
    fit = pf.feols(fml, data=df, vcov={"CRV1": "cluster"}, ssc=pf.ssc(k_fixef=k_fixef))
    tidy = fit.tidy().loc["arm"]
    emit(
        {
            "n": int(fit._N),
            "k_fixef": k_fixef,
            "ols_fe": {
                "estimate": tidy["Estimate"],
                "std_error": tidy["Std. Error"],
                "p_value": tidy["Pr(>|t|)"],
                "ci_low": tidy["2.5%"],
                "ci_high": tidy["97.5%"],
                "df": fit._df_t,
            },
        }
    )


if __name__ == "__main__":
    main()
