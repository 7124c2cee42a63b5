"""Peer that only reads the file: pyarrow.csv.read_csv of every column.

    pyarrow_read.py FILE
"""

import pyarrow.csv as pacsv

from common import args, emit


def main():
    (path,) = args(1)
    table = pacsv.read_csv(path)
    emit({"n": table.num_rows, "columns": table.num_columns})


if __name__ == "__main__":
    main()
