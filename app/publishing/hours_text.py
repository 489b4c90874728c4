"""Opening hours as a clerk writes them ("Mo–Fr 08:00–12:00", one rule a line), for the
onboarding form; read into the rules the district template uses."""
from __future__ import annotations

import re
from datetime import time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GERMAN = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_LINE = re.compile(r"^(?P<days>[A-Za-z ,–-]+?)\s+(?P<from>\d{1,2}[:.]\d{2})\s*(?:[–-]|bis)\s*"
                   r"(?P<to>\d{1,2}[:.]\d{2})(?:\s*Uhr)?$")


class HoursInvalid(ValueError):
    pass


def _clock(value: str) -> time:
    hours, minutes = re.split(r"[:.]", value)
    try:
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise HoursInvalid(f"„{value}“ ist keine Uhrzeit") from exc


def _days(text: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        ends = [e.strip().capitalize()[:2] for e in re.split(r"\s*[–-]\s*", part)]
        if not all(e in GERMAN for e in ends) or len(ends) > 2:
            raise HoursInvalid(f"„{part}“: Tage bitte als Mo, Di, Mi, Do, Fr, Sa, So oder Mo–Fr")
        first, last = GERMAN.index(ends[0]), GERMAN.index(ends[-1])
        if last < first:
            raise HoursInvalid(f"„{part}“: der erste Tag muss vor dem letzten liegen")
        out += [DAYS[i] for i in range(first, last + 1) if DAYS[i] not in out]
    return out


def parse_hours(text: str) -> list[dict]:
    """Rules {days, from, to}; raises HoursInvalid naming the line that is wrong."""
    rules = []
    for number, line in enumerate((text or "").replace(";", "\n").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            raise HoursInvalid(f"Zeile {number}: „{line}“ – bitte so: Mo–Fr 08:00–12:00")
        opens, closes = _clock(m.group("from")), _clock(m.group("to"))
        if opens >= closes:
            raise HoursInvalid(f"Zeile {number}: das Ende muss nach dem Beginn liegen")
        rules.append({"days": _days(m.group("days")), "from": opens.strftime("%H:%M"), "to": closes.strftime("%H:%M")})
    if not rules:
        raise HoursInvalid("Bitte mindestens eine Zeile mit Öffnungszeiten angeben, z. B. Mo–Fr 08:00–12:00")
    return rules


def format_hours(rules: list[dict]) -> str:
    lines = []
    for rule in rules:
        idx = [DAYS.index(d) for d in rule["days"]]
        consecutive = idx == list(range(idx[0], idx[-1] + 1))
        days = (f"{GERMAN[idx[0]]}–{GERMAN[idx[-1]]}" if consecutive and len(idx) > 2
                else ", ".join(GERMAN[i] for i in idx))
        lines.append(f"{days} {rule['from']}–{rule['to']}")
    return "\n".join(lines)
