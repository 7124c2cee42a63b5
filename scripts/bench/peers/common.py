"""Helpers shared by the Python peers: argument parsing and JSON output."""

import json
import math
import sys


def args(n_min):
    """Positional arguments after the script name; exit with usage if too few."""
    a = sys.argv[1:]
    if len(a) < n_min:
        sys.exit(f"usage: {sys.argv[0]} needs {n_min} arguments, got {a}")
    return a


def clean(x):
    """JSON-safe floats (NaN/inf become null), numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def read_table(path, columns):
    """The columns of a benchmark file as a pandas frame, read as an evaluator would:
    Parquet with pandas.read_parquet (pyarrow, only these columns); a Dutch spreadsheet
    export (`*.nl.csv`: quoted fields, `;` between them, decimal commas) with
    pandas.read_csv(sep=";", decimal=","); any other CSV with pandas.read_csv."""
    import pandas as pd

    if path.endswith(".parquet"):
        return pd.read_parquet(path, columns=columns)
    if path.endswith(".nl.csv"):
        return pd.read_csv(path, usecols=columns, sep=";", decimal=",")
    return pd.read_csv(path, usecols=columns)


def emit(obj):
    json.dump(clean(obj), sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
