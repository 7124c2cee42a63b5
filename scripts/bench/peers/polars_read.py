"""Peer of `via-eval pilot SLUG` (end to end): polars only reads the pilot's data file,
the columns the pilot uses.

    polars_read.py FILE COL1,COL2,...
"""

import polars as pl

from common import args, emit


def main():
    path, cols = args(2)
    df = pl.read_csv(path, columns=cols.split(","))
    emit({"n": df.height, "columns": df.width})


if __name__ == "__main__":
    main()
