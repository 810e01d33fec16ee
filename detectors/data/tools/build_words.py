#!/usr/bin/env python3
"""Writes detectors/data/english-words.txt: the words of Debian's wamerican
word list (SCOWL; see ../README.md for its licence), proper nouns included,
folded as the detector folds a name before lookup: diacritics dropped,
upper-case ASCII letters only, three letters or more, possessives ("'s")
left out, sorted and unique. Run from the repository root:

    apt-get install wamerican
    python3 detectors/data/tools/build_words.py /usr/share/dict/american-english

The detector uses the list to tell a word of English (or a place, a brand
or a name English writes) from a name no list has: "Acme Health" and
"Boston Imaging" are words; "Keziah Mbatha" is not.
"""
import sys
import unicodedata


def fold(word):
    word = unicodedata.normalize("NFKD", word)
    return "".join(c for c in word if not unicodedata.combining(c)).upper()


def main(path):
    words = set()
    for line in open(path, encoding="utf-8"):
        w = line.strip()
        if not w or w.endswith("'s"):
            continue
        f = "".join(c for c in fold(w) if c.isascii() and c.isalpha())
        if len(f) >= 3:
            words.add(f)
    with open("detectors/data/english-words.txt", "w") as out:
        for w in sorted(words):
            out.write(w + "\n")
    print(len(words), "words")


if __name__ == "__main__":
    main(sys.argv[1])
