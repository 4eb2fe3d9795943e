#!/usr/bin/env python3
"""Writes Examples/data/sequences.csv, the data of Examples/attention-sequences.yaml (seeded, standard library only).

Each row is a token sequence t0..t11 of ids in a vocabulary of 12 (0 = padding, 1 = unknown word, 2..11 words),
6 to 12 tokens long and padded with 0 at the end, and two labels:
- order: 1 when token A (id 2) comes before token B (id 3); each sequence holds exactly one A and one B at random
  places, so both classes are equally likely and only their order tells them apart;
- many: 1 when token C (id 4) occurs more than twice; C occurs 0 to 5 times, uniformly.
The other tokens are words 5..11 or, one time in ten, the unknown word 1. Neither label is a linear function of
the bag of tokens plus a per-position bias: the order needs positions and attention.
"""
import random
from pathlib import Path

LENGTH, ROWS, A, B, C = 12, 2000, 2, 3, 4
random.seed(7)
rows = [",".join([f"t{i}" for i in range(LENGTH)] + ["order", "many"])]
for _ in range(ROWS):
    length = random.randint(6, LENGTH)
    count = random.randint(0, min(5, length - 2))
    tokens = [A, B] + [C] * count
    tokens += [1 if random.random() < 0.1 else random.randint(5, 11) for _ in range(length - len(tokens))]
    random.shuffle(tokens)
    order = int(tokens.index(A) < tokens.index(B))
    rows.append(",".join(str(t) for t in tokens + [0] * (LENGTH - length)) + f",{order},{int(count > 2)}")
out = Path(__file__).resolve().parent.parent / "Examples" / "data" / "sequences.csv"
out.write_text("\n".join(rows) + "\n")
print(f"wrote {out} ({len(rows) - 1} rows)")
