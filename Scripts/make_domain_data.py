#!/usr/bin/env python3
"""Writes Examples/data/domains.csv, the data of Examples/domain-adversarial.yaml (seeded, standard library only).

Each row has four inputs: a and b, uniform in [-1, 1], decide the main label (a + b > 0); d reveals the row's
domain (rows alternate between domain 0 and 1; d = ±1 plus uniform noise of ±0.3); n is noise. A model that reads
d can tell the domains apart perfectly; the example's gradient reversal makes its shared trunk work against that.
"""
import random
from pathlib import Path

random.seed(11)
rows = ["a,b,d,n,main,domain"]
for row in range(1024):
    a, b = random.uniform(-1, 1), random.uniform(-1, 1)
    domain = row % 2
    d = (2 * domain - 1) + 0.3 * random.uniform(-1, 1)
    n = random.uniform(-1, 1)
    rows.append(f"{a:.6f},{b:.6f},{d:.6f},{n:.6f},{int(a + b > 0)},{domain}")
out = Path(__file__).resolve().parent.parent / "Examples" / "data" / "domains.csv"
out.write_text("\n".join(rows) + "\n")
print(f"wrote {out} ({len(rows) - 1} rows)")
