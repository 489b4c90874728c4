"""Refresh the message catalogue after changing German texts in the citizen pages:

    .venv/bin/python translations/update.py

extracts the German source strings (app/citizen, templates), merges them into
translations/en/LC_MESSAGES/messages.po (keeping existing English texts) and reports
strings still untranslated. `make run` and `make test` compile the catalogue.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def main() -> int:
    pot = HERE / "messages.pot"
    subprocess.run([BIN / "pybabel", "-q", "extract", "-F", HERE / "babel.cfg", "-k", "_", "--no-location",
                    "--sort-output", "--omit-header", "-o", pot, "."], cwd=ROOT, check=True)
    po = HERE / "en" / "LC_MESSAGES" / "messages.po"
    if po.exists():
        subprocess.run([BIN / "pybabel", "-q", "update", "-i", pot, "-d", HERE, "-l", "en", "--no-fuzzy-matching",
                        "--ignore-obsolete"], check=True)
    else:
        subprocess.run([BIN / "pybabel", "-q", "init", "-i", pot, "-d", HERE, "-l", "en"], check=True)
    pot.unlink()
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        missing = [m.id for m in read_po(f) if m.id and not m.string]
    for msgid in missing:
        print("untranslated:", msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
