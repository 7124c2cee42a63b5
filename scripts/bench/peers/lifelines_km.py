"""Peer of `via-eval compare --time time --event event --at AT --horizon H`:
pandas reads the file (CSV or Parquet: see common.read_table); lifelines fits a Kaplan-Meier curve per arm, the log-rank test
and the restricted mean survival time per arm up to the horizon. No RMST standard
error is compared: lifelines' `return_variance` is the variance of min(T, horizon), not
the sampling variance of the RMST estimate.

    lifelines_km.py FILE HORIZON AT1,AT2,...
"""

from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import restricted_mean_survival_time

from common import args, emit, read_table


def main():
    path, horizon, at = args(3)
    horizon = float(horizon)
    at = [float(v) for v in at.split(",")]
    df = read_table(path, ["arm", "time", "event"])
    arms = {}
    for a in (0, 1):
        d = df[df["arm"] == a]
        km = KaplanMeierFitter().fit(d["time"], d["event"])
        rmst = restricted_mean_survival_time(km, t=horizon)
        arms[str(a)] = {
            "n": int(len(d)),
            "events": int(d["event"].sum()),
            "median": km.median_survival_time_,
            "survival_at": [float(v) for v in km.survival_function_at_times(at).to_numpy()],
            "rmst": rmst,
        }
    t, c = df[df["arm"] == 1], df[df["arm"] == 0]
    lr = logrank_test(t["time"], c["time"], t["event"], c["event"])
    diff = arms["1"]["rmst"] - arms["0"]["rmst"]
    emit(
        {
            "n": int(len(df)),
            "arms": arms,
            "logrank": {"statistic": lr.test_statistic, "p_value": lr.p_value},
            "rmst_difference": {"estimate": diff},
        }
    )


if __name__ == "__main__":
    main()
