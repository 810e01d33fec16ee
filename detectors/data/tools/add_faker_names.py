#!/usr/bin/env python3
"""Adds given names and surnames of non-English-speaking communities
common among US patients to detectors/data/first-names.txt and
surnames.txt, from the person-name lists of the Faker package (MIT
licence; see ../README.md). Run from the repository root:

    pip download --no-deps Faker==37.4.0
    python3 detectors/data/tools/add_faker_names.py faker-37.4.0-py3-none-any.whl

Names are folded to upper-case ASCII (diacritics dropped, as the detector
folds them before lookup); only letters, three or more of them; none that
is a lower-case word of Debian's wamerican word list (`apt-get install
wamerican`): "Over", "Side" or "Yoga" at the start of a line must not read
as a given name. Locales whose lists are in another script add nothing
and are not listed.
"""
import sys
import unicodedata
import zipfile
import tempfile

LOCALES = [
    "tr_TR", "vi_VN", "yo_NG", "zu_ZA", "tw_GH", "sw", "en_IN", "en_PK",
    "es_MX", "es_ES", "es_CO", "es_AR", "es_CL", "pt_BR", "pt_PT", "id_ID",
    "fr_FR", "it_IT", "pl_PL", "uk_UA", "ro_RO", "hu_HU", "el_GR",
]


def fold(name):
    name = unicodedata.normalize("NFKD", name)
    return "".join(c for c in name if not unicodedata.combining(c)).upper()


def add(path, attrs, words):
    """Adds the folded names of `attrs` of every locale's provider to the
    list at `path`, kept sorted."""
    import importlib

    names_in = set(l.strip() for l in open(path) if l.strip())
    before = len(names_in)
    for loc in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in attrs:
            names = getattr(provider, attr, None) or ()
            if not isinstance(names, (dict, list, tuple, set)):
                continue  # computed in some locales from the lists read here
            for n in names.keys() if isinstance(names, dict) else names:
                f = fold(n)
                if f.isascii() and f.isalpha() and len(f) >= 3 and f not in words:
                    names_in.add(f)
    with open(path, "w") as f:
        f.write("".join(n + "\n" for n in sorted(names_in)))
    print(f"{path}: {before} -> {len(names_in)}")


def main(wheel):
    with tempfile.TemporaryDirectory() as d:
        zipfile.ZipFile(wheel).extractall(d)
        sys.path.insert(0, d)
        words = set(
            w.strip().upper()
            for w in open("/usr/share/dict/words", encoding="utf-8")
            if w.strip() and w[0].islower()
        )
        add(
            "detectors/data/first-names.txt",
            ("first_names", "first_names_male", "first_names_female"),
            words,
        )
        add("detectors/data/surnames.txt", ("last_names",), words)


if __name__ == "__main__":
    main(sys.argv[1])
