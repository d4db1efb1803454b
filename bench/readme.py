"""Writes the README's "Performance" figures from the table of a `make bench` run.

    python3 bench/readme.py [LATEST_MD [README_MD]]
        (defaults: bench/results/latest.md, README.md, relative to the repository)

Standard library only. It replaces what lies between the lines `<!-- bench:begin ... -->` and
`<!-- bench:end -->` of README.md with: the run's date, commit, machine and load, the targets
tally, and the table's rows that have a target or a verdict (met / missed / not measured), without
the min – max column. Everything else in the README stays as it is; the full table (every
figure) stays in bench/results/latest.md, which the section links.
"""

import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
latest = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "bench/results/latest.md"
readme = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "README.md"

lines = latest.read_text().splitlines()
title = next((l for l in lines if l.startswith("# ")), "")
date = title.split(",", 1)[1].strip() if "," in title else "?"


def bullet(name):
    return next((l for l in lines if l.startswith(f"- **{name}**: ")), "").split(": ", 1)[-1]


machine, run, targets = bullet("machine"), bullet("run"), bullet("targets")
load = re.search(r"load average (.*? at the start, .*? at the end)", machine)
cpu = machine.split(";", 1)[0]
commit = re.search(r"commit ([^;]*)", run)
took = re.search(r"bench/run\.sh took (\d+) s", run)
tally = targets.split(" (", 1)[0]

table = [l for l in lines if l.startswith("| ")]
if len(table) < 2:
    sys.exit(f"readme.py: no table in {latest}")
header = [c.strip() for c in table[0].strip("|").split(" | ")]
drop = header.index("runs (min – max)") if "runs (min – max)" in header else None
out_rows = []
for l in table[2:]:
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", l.strip())[1:-1]]
    if len(cells) != len(header) or not (cells[-1] or cells[-2]):  # a verdict or a target
        continue
    if drop is not None:
        del cells[drop]
    out_rows.append(cells)
if drop is not None:
    del header[drop]

section = [
    f"Run of {date}: commit {commit.group(1) if commit else '?'}, {cpu}, load average "
    f"{load.group(1) if load else '?'}; `make bench` took {took.group(1) if took else '?'} s. "
    f"Targets: {tally}.",
    "",
    "| " + " | ".join(header) + " |",
    "|" + "---|" * len(header),
]
section += ["| " + " | ".join(r) + " |" for r in out_rows]

text = readme.read_text()
m = re.search(r"^<!-- bench:begin[^\n]*-->\n(.*?)^<!-- bench:end -->$", text, re.S | re.M)
if not m:
    sys.exit(f"readme.py: {readme} has no <!-- bench:begin --> ... <!-- bench:end --> lines")
text = text[: m.start(1)] + "\n".join(section) + "\n" + text[m.end(1):]
readme.write_text(text)
print(f"readme.py: {readme.name}: {len(out_rows)} rows with a target from {latest.name} ({date})")
