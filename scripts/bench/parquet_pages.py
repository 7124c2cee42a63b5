#!/usr/bin/env python3
"""Which parts of a Parquet file does a command read? Evidence for "only the columns it needs".

    parquet_pages.py FILE.parquet -- COMMAND ARGS...      (run with the bench venv's Python)

Drops FILE's pages from the page cache (posix_fadvise DONTNEED: this file only, nothing
else on the machine), runs COMMAND, then asks the kernel which pages of FILE are in the
page cache now (mincore on a mapping of the file) and adds them up per column chunk
(byte ranges from the Parquet footer, pyarrow). A column the command did not read stays
at (about) 0%; the kernel's read-ahead can pull in a few pages beside a chunk that was
read. Prints one line per column and a JSON summary.

Needs Linux; another process reading the same file at the same time spoils the count.
"""

import ctypes
import json
import mmap
import os
import subprocess
import sys

import pyarrow.parquet as pq

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def resident_pages(path):
    """One bool per page of the file: in the page cache now (mincore on a read-only
    mapping of the file; mapping does not read anything)."""
    size = os.path.getsize(path)
    pages = (size + PAGE - 1) // PAGE
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap failed")
        try:
            buf = (ctypes.c_ubyte * pages)()
            if libc.mincore(addr, size, buf) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
            return [bool(b & 1) for b in buf]
        finally:
            libc.munmap(addr, size)
    finally:
        os.close(fd)


def drop(path):
    """Evict this file's pages from the page cache (clean pages of this file only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def chunks(path):
    """(column, start, length) of every column chunk."""
    md = pq.ParquetFile(path).metadata
    out = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        for c in range(rg.num_columns):
            cc = rg.column(c)
            start = cc.data_page_offset
            if cc.has_dictionary_page and cc.dictionary_page_offset is not None:
                start = min(start, cc.dictionary_page_offset)
            out.append((cc.path_in_schema, start, cc.total_compressed_size))
    return out


def main():
    if "--" not in sys.argv or len(sys.argv) < 4:
        sys.exit(__doc__)
    path = sys.argv[1]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    drop(path)
    before = sum(resident_pages(path))
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"the command failed ({r.returncode}): {r.stderr[-500:]}")
    res = resident_pages(path)
    per = {}
    for col, start, length in chunks(path):
        p0, p1 = start // PAGE, (start + length - 1) // PAGE
        tot, got = per.get(col, (0, 0))
        per[col] = (tot + (p1 - p0 + 1), got + sum(res[p0:p1 + 1]))
    size = os.path.getsize(path)
    print(f"{path}: {size / 1e6:.1f} MB, {len(res)} pages; in the page cache before the command: {before}")
    summary = {}
    for col, (tot, got) in per.items():
        share = got / tot if tot else 0.0
        summary[col] = round(share, 4)
        print(f"  {col:<16} {tot * PAGE / 1e6:8.1f} MB  read {100 * share:6.2f}%")
    print(json.dumps({"file": path, "pages_before": before, "share_read": summary}))


if __name__ == "__main__":
    main()
