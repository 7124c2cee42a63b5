"""Peer of `via-eval compare --treatment treat --outcome y --covariates x1..x10
--estimator ipw|entropy|aipw` (its `ipw_att`, `entropy_att` and `aipw_att` estimates):
pandas reads the file, statsmodels fits the propensity model, numpy does the rest.

    weighting.py ipw|entropy|aipw FILE

- ipw: statsmodels `Logit(treat, [1, x]).fit(method="newton")`; control weights
  e/(1 - e), normalised within each arm (Hájek); the effect is the difference of the
  weighted means; its SE the stacked M-estimation sandwich A^-1 B A^-T of the logit
  score equations and the two weighted means (Lunceford & Davidian 2004; Reifeis &
  Hudgens 2022), A written out analytically, no small-sample factor, normal reference;
- entropy: Google's `empirical_calibration.calibrate(objective=ENTROPY, autoscale=True)`
  for the control weights (treated weights 1/n1), the effect with statsmodels
  `WLS(y, [1, treat], weights).fit(cov_type="HC2", use_t=True)` (weights fixed, t on
  n - 2 df);
- aipw: the logit as for ipw, statsmodels `OLS` of y on [1, x] among the controls for
  m0(x); tau = mean_T(y - m0) - sum_C o (y - m0) / sum_C o with o = e/(1 - e); SE the
  stacked sandwich of (gamma, beta, mu1, mu0), normal reference.

These are the conventions `via-eval` states for the same estimators.
"""

import sys

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from common import args, emit

COVS = [f"x{j}" for j in range(1, 11)]


def read(path):
    cols = ["treat", "y"] + COVS
    if path.endswith(".parquet"):
        return pd.read_parquet(path, columns=cols)
    return pd.read_csv(path, usecols=cols)


def normal_row(est, se):
    q = stats.norm.ppf(0.975)
    z = est / se
    return {"estimate": est, "std_error": se, "statistic": z, "df": None,
            "p_value": 2 * stats.norm.sf(abs(z)), "ci_low": est - q * se, "ci_high": est + q * se}


def propensity(t, Z):
    fit = sm.Logit(t, Z).fit(method="newton", maxiter=100, tol=1e-12, disp=False)
    g = np.asarray(fit.params)
    return g, 1.0 / (1.0 + np.exp(-(Z @ g)))


def ipw(t, y, Z):
    n, k = Z.shape
    T = t == 1
    g, e = propensity(t, Z)
    o = e / (1 - e)
    c = ~T
    mu1 = y[T].mean()
    mu0 = np.sum(o[c] * y[c]) / np.sum(o[c])
    # Stacked estimating functions psi_i = (z(T - e), T(y - mu1), (1-T) o (y - mu0)).
    r0 = np.where(c, o * (y - mu0), 0.0)
    P = np.column_stack([Z * (t - e)[:, None], np.where(T, y - mu1, 0.0), r0])
    A = np.zeros((k + 2, k + 2))
    A[:k, :k] = (Z * (e * (1 - e))[:, None]).T @ Z
    A[k, k] = T.sum()
    A[k + 1, :k] = -(r0 @ Z)
    A[k + 1, k + 1] = o[c].sum()
    B = P.T @ P
    Ai = np.linalg.inv(A)
    V = Ai @ B @ Ai.T
    cv = np.zeros(k + 2)
    cv[k], cv[k + 1] = 1.0, -1.0
    return normal_row(mu1 - mu0, float(np.sqrt(cv @ V @ cv)))


def aipw(t, y, Z):
    n, k = Z.shape
    T = t == 1
    c = ~T
    g, e = propensity(t, Z)
    o = e / (1 - e)
    beta = np.asarray(sm.OLS(y[c], Z[c]).fit().params)
    r = y - Z @ beta
    mu1 = r[T].mean()
    mu0 = np.sum(o[c] * r[c]) / np.sum(o[c])
    oc = np.where(c, o, 0.0)
    r0 = oc * (r - mu0)
    P = np.column_stack([
        Z * (t - e)[:, None],
        Z * np.where(c, r, 0.0)[:, None],
        np.where(T, r - mu1, 0.0),
        r0,
    ])
    m = 2 * k + 2
    A = np.zeros((m, m))
    A[:k, :k] = (Z * (e * (1 - e))[:, None]).T @ Z
    A[k:2 * k, k:2 * k] = Z[c].T @ Z[c]
    A[2 * k, k:2 * k] = Z[T].sum(axis=0)
    A[2 * k, 2 * k] = T.sum()
    A[2 * k + 1, :k] = -(r0 @ Z)
    A[2 * k + 1, k:2 * k] = oc @ Z
    A[2 * k + 1, 2 * k + 1] = oc.sum()
    B = P.T @ P
    Ai = np.linalg.inv(A)
    V = Ai @ B @ Ai.T
    cv = np.zeros(m)
    cv[2 * k], cv[2 * k + 1] = 1.0, -1.0
    return normal_row(mu1 - mu0, float(np.sqrt(cv @ V @ cv)))


def entropy(t, y, X):
    import empirical_calibration as ec

    T = t == 1
    w0, ok = ec.calibrate(covariates=X[~T], target_covariates=X[T],
                          objective=ec.Objective.ENTROPY, autoscale=True)
    if not ok:
        sys.exit("empirical_calibration did not converge")
    w = np.full(len(t), 1.0 / T.sum())
    w[~T] = w0 / w0.sum()
    fit = sm.WLS(y, sm.add_constant(t.astype(float)), weights=w).fit(cov_type="HC2", use_t=True)
    ci = fit.conf_int(alpha=0.05)
    return {"estimate": float(fit.params[1]), "std_error": float(fit.bse[1]),
            "statistic": float(fit.tvalues[1]), "df": float(fit.df_resid),
            "p_value": float(fit.pvalues[1]), "ci_low": float(ci[1, 0]), "ci_high": float(ci[1, 1])}


def main():
    mode, path = args(2)[:2]
    d = read(path)
    t = d["treat"].to_numpy().astype(float)
    y = d["y"].to_numpy().astype(float)
    X = d[COVS].to_numpy().astype(float)
    if mode == "entropy":
        est = entropy(t, y, X)
    else:
        Z = np.column_stack([np.ones(len(t)), X])
        est = (ipw if mode == "ipw" else aipw)(t, y, Z)
    emit({"n": int(len(t)), "n_treated": int(t.sum()), f"{mode}_att": est})


if __name__ == "__main__":
    main()
