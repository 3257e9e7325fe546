"""Where a US ZIP code is, for a texter or caller asking for treatment near them: a table of
fixed-width lines read once and searched in place (about 1 MiB per worker), rather than a
library that keeps every ZIP code's city, county and area codes in memory (about 36 MiB).

``data/zip_codes.txt`` holds, for each ZIP code in order, its kind (Standard, PO box, Unique,
Military), state and coordinates, from GeoNames (CC BY 4.0) through the ``zipcodes``
package. ``python -m helpline.zip_table`` writes it again from that package, which only the
tests and that command need; tests/test_zip_table.py checks every ZIP code against it.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import NamedTuple

TABLE = Path(__file__).parent / "data" / "zip_codes.txt"
KINDS = {"STANDARD": "S", "PO BOX": "P", "UNIQUE": "U", "MILITARY": "M"}
LINE = "{zip:5}{kind:1}{state:2}{lat:>8}{lng:>9}\n"
WIDTH = 26


class ZipCode(NamedTuple):
    zip: str
    kind: str      # a value of KINDS
    state: str
    lat: str
    lng: str


@functools.cache
def _table() -> bytes:
    table = TABLE.read_bytes()
    if len(table) % WIDTH:
        raise ValueError(f"{TABLE}: not lines of {WIDTH} characters")
    return table


def find(zip_code: str) -> ZipCode | None:
    """The ZIP code's line, by binary search over the table's lines; None when unknown."""
    table, key = _table(), zip_code.encode("ascii", "replace")
    lo, hi = 0, len(table) // WIDTH
    while lo < hi:
        mid = (lo + hi) // 2
        if table[mid * WIDTH:mid * WIDTH + 5] < key:
            lo = mid + 1
        else:
            hi = mid
    line = table[lo * WIDTH:(lo + 1) * WIDTH].decode("ascii")
    if line[:5] != zip_code:
        return None
    return ZipCode(line[:5], line[5], line[6:8], line[8:16].strip(), line[16:25].strip())


def write(out) -> int:
    """The table from the ``zipcodes`` package; how many ZIP codes it holds."""
    import zipcodes

    rows = sorted(zipcodes.list_all(), key=lambda z: z["zip_code"])
    for z in rows:
        out.write(LINE.format(zip=z["zip_code"], kind=KINDS[z["zip_code_type"]], state=z["state"],
                              lat=z["lat"], lng=z["long"]))
    return len(rows)


if __name__ == "__main__":
    with TABLE.open("w", encoding="ascii", newline="\n") as table:
        print(f"{write(table)} ZIP codes written to {TABLE}", file=sys.stderr)
