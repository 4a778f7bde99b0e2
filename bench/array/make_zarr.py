#!/usr/bin/env python3
"""Writes the Zarr array the bandwidth cases read: uniform random float64, Zarr format 3,
uncompressed (`compressors=None`: random doubles do not compress, and a codec would
measure the decoder rather than the engine). Written a band of chunk rows at a time, so
memory stays at one band.

    python make_zarr.py PATH ROWS COLS CHUNK_ROWS CHUNK_COLS
"""
import sys

import numpy as np
import zarr


def main():
    path = sys.argv[1]
    rows, cols, crows, ccols = (int(a) for a in sys.argv[2:6])
    z = zarr.create_array(store=path, shape=(rows, cols), chunks=(crows, ccols), dtype="float64",
                          compressors=None, zarr_format=3, fill_value=0.0)
    rng = np.random.default_rng(7)
    for start in range(0, rows, crows):
        stop = min(start + crows, rows)
        z[start:stop, :] = rng.random((stop - start, cols))
    print(f"wrote {path}: {rows} x {cols} float64 in {crows} x {ccols} chunks, "
          f"{rows * cols * 8 / 2**30:.2f} GiB, codecs {[type(c).__name__ for c in z.metadata.codecs]}")


if __name__ == "__main__":
    main()
