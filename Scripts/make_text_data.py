#!/usr/bin/env python3
"""Writes Examples/data/wordnet-glosses.csv and wordnet-glosses-test.csv, the data of Examples/text-wordnet.yaml.

Source: WordNet 3.0's database files data.noun, data.verb, data.adj and data.adv, as shipped by Debian's
`wordnet-base` package (/usr/share/wordnet). Fetch them without installing anything system-wide:

    apt-get download wordnet-base && dpkg -x wordnet-base_*.deb /tmp/wordnet
    python3 Scripts/make_text_data.py /tmp/wordnet/usr/share/wordnet

Each synset line of a data file reads `offset lex_filenum ss_type w_cnt word lex_id ... | gloss`; the gloss is
the synset's definition followed by example sentences. A row of the CSV is one synset:

- `gloss`: the gloss text as WordNet writes it (commas, semicolons, double quotes and all: the CSV quotes it);
- `pos`: the synset's part of speech (noun, verb, adjective, adverb; adjective satellites `s` are adjectives);
- `noun_class`: for a noun, its lexicographer file (WordNet's supersense) without the `noun.` prefix, such as
  `animal`, `artifact`, `person`; empty (a missing label) for verbs, adjectives and adverbs.

Sampling is deterministic: every k-th synset of each file, in file order, with k chosen to take 2000 nouns and
1000 each of verbs, adjectives and adverbs; every fifth sampled row (by position in the sampled list) goes to
the test file. Standard library only.
"""
import csv
import sys
from pathlib import Path

LEXNAMES = ["adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
            "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
            "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
            "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
            "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
            "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
            "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
            "verb.weather", "adj.ppl"]
FILES = [("noun", "data.noun", 2000), ("verb", "data.verb", 1000), ("adjective", "data.adj", 1000),
         ("adverb", "data.adv", 1000)]


def synsets(path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):   # the license header
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            yield LEXNAMES[int(fields[1])], " ".join(gloss.split())


def main():
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet")
    rows = []
    for pos, name, count in FILES:
        every = list(synsets(source / name))
        step = len(every) / count
        for k in range(count):
            lexname, gloss = every[int(k * step)]
            noun_class = lexname.split(".", 1)[1] if pos == "noun" else ""
            rows.append((gloss, pos, noun_class))
    out = Path(__file__).resolve().parent.parent / "Examples" / "data"
    train = [row for i, row in enumerate(rows) if i % 5 != 4]
    test = [row for i, row in enumerate(rows) if i % 5 == 4]
    for file, part in [("wordnet-glosses.csv", train), ("wordnet-glosses-test.csv", test)]:
        with open(out / file, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["gloss", "pos", "noun_class"])
            writer.writerows(part)
        print(f"wrote {out / file} ({len(part)} rows)")


if __name__ == "__main__":
    main()
