"""Peer of `via-eval its FILE --unit unit --time time --outcome y --start 5` (its
`its_level` and `its_slope` estimates on a panel of many units, CR1 by unit):
pandas reads the CSV, pyfixest fits the segmented regression with the unit effects
absorbed.

    pyfixest_its.py FILE START

The model is y ~ tt + post + tt:post | unit with tt = time - START and post = time >=
START; CRV1 by unit with every unit effect counted in k (`ssc(k_fixef="full")`), which
is the convention via-eval states for its (lm with unit dummies + sandwich::vcovCL
type "HC1"); t on G - 1 df.
"""

import pandas as pd
import pyfixest as pf

from common import args, emit


def main():
    a = args(2)
    path, start = a[0], float(a[1])
    df = pd.read_csv(path, usecols=["unit", "time", "y"])
    df["tt"] = df["time"] - start
    df["post"] = (df["time"] >= start).astype(float)
    df["ttp"] = df["tt"] * df["post"]
    fit = pf.feols("y ~ tt + post + ttp | unit", data=df, vcov={"CRV1": "unit"},
                   ssc=pf.ssc(k_fixef="full"))
    tidy = fit.tidy()
    out = {"n": int(fit._N)}
    for term, name in (("post", "its_level"), ("ttp", "its_slope")):
        r = tidy.loc[term]
        out[name] = {
            "estimate": r["Estimate"],
            "std_error": r["Std. Error"],
            "p_value": r["Pr(>|t|)"],
            "ci_low": r["2.5%"],
            "ci_high": r["97.5%"],
            "df": fit._df_t,
        }
    emit(out)


if __name__ == "__main__":
    main()
