"""The pilot's figures for a period, read from the daily rows (never from appointments).

Every figure is a `Table`: a title, typed columns and rows. The page draws a chart from it
and shows it as a data table; the CSV export writes the same rows. Titles and column labels
are German msgids, translated where they are shown.

Rates and their bases:
- online share: online bookings ÷ all bookings made in the period;
- cancellations (by citizens, by the office), moves, lead time: ÷ bookings made in the
  period (walk-in tickets count among the bookings by source, not here);
- no-shows: ÷ appointments held on the period's days up to today;
- utilisation: booked minutes ÷ open counter minutes on the days with recorded hours;
  held-back capacity used: minutes booked by staff (phone, emergency) ÷ minutes held back.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.catalog.models import Service
from app.extensions import db
from app.offices.models import Office
from app.statistics.models import FIGURES, StatisticsDay, StatisticsNextFree, StatisticsOfficeDay
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants


def N_(text: str) -> str:
    """Marks a msgid that is translated where it is shown."""
    return text


# Sources in display order; a source the queue adds later (walk-in) shows up by itself.
SOURCES = ("online", "phone", "emergency", "walk_in")
SOURCE_LABELS = {"online": N_("online"), "phone": N_("Telefon"), "emergency": N_("Notfall"),
                 "walk_in": N_("ohne Termin")}


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def previous(self) -> Period:
        length = (self.last - self.first).days + 1
        return Period(self.first - timedelta(days=length), self.first - timedelta(days=1))


@dataclass
class Column:
    label: str
    kind: str = "int"  # int, dec (one decimal), num (int or one decimal), pct (percent), date, week, text


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    chart: str = "bar"  # bar, stacked, line, none
    series: list[int] = field(default_factory=list)  # the columns the chart draws
    note: str = ""


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def pct(part: float, whole: float) -> float | None:
    r = ratio(part, whole)
    return None if r is None else 100 * r


def _sum_rows(tenant_ids: list[int], period: Period, group: tuple):
    cols = [getattr(StatisticsDay, g) for g in group]
    q = (select(*cols, *(func.sum(getattr(StatisticsDay, f)) for f in FIGURES))
         .where(StatisticsDay.tenant_id.in_(tenant_ids), StatisticsDay.day >= period.first,
                StatisticsDay.day <= period.last)
         .group_by(*cols))
    out = {}
    for row in db.session.execute(q):
        out[tuple(row[:len(group)])] = dict(zip(FIGURES, (int(v or 0) for v in row[len(group):])))
    return out


def _zero() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


def _add(into: dict, figures: dict) -> None:
    for k, v in figures.items():
        into[k] += v


@dataclass
class Summary:
    """The headline figures of one tenant (or all) for one period."""

    totals: dict[str, int]
    by_source: dict[str, dict[str, int]]
    open_minutes: int
    held_back_minutes: int
    booked_minutes_on_open_days: int
    staff_minutes: int
    no_show_base: int  # appointments held on days up to today
    no_shows_to_date: int

    @property
    def bookings(self) -> int:
        return self.totals["bookings"]

    @property
    def bookings_ahead(self) -> int:
        """Bookings of an appointment, without the walk-ins' tickets at the office."""
        return self.bookings - self.by_source.get("walk_in", _zero())["bookings"]

    @property
    def online_share(self):
        return pct(self.by_source.get("online", _zero())["bookings"], self.bookings)

    @property
    def utilisation(self):
        return pct(self.booked_minutes_on_open_days, self.open_minutes)

    @property
    def held_back_used(self):
        return pct(self.staff_minutes, self.held_back_minutes)

    @property
    def citizen_cancel_rate(self):
        return pct(self.totals["cancelled"] - self.totals["cancelled_by_office"], self.bookings_ahead)

    @property
    def office_cancel_rate(self):
        return pct(self.totals["cancelled_by_office"], self.bookings_ahead)

    @property
    def move_rate(self):
        return pct(self.totals["moves"], self.bookings_ahead)

    @property
    def no_show_rate(self):
        return pct(self.no_shows_to_date, self.no_show_base)

    @property
    def lead_days(self):
        r = ratio(self.totals["lead_minutes"], self.bookings_ahead)
        return None if r is None else r / (24 * 60)

    @property
    def wait_minutes(self):
        r = ratio(self.totals["wait_seconds"], self.totals["waited"])
        return None if r is None else r / 60

    @property
    def service_minutes(self):
        r = ratio(self.totals["service_seconds"], self.totals["served"])
        return None if r is None else r / 60

    @property
    def emergency_answer_hours(self):
        r = ratio(self.totals["emergency_answer_minutes"], self.totals["emergency_answered"])
        return None if r is None else r / 60


def summary(tenant_ids: list[int], period: Period, today: date) -> Summary:
    return _summarise(_sum_rows(tenant_ids, period, ("day", "source")), _capacity(tenant_ids, period), today)


def summaries(tenant_ids: list[int], period: Period, today: date) -> dict[int, Summary]:
    """One Summary per tenant, from one query per table (district IT's overview)."""
    rows: dict[int, dict] = defaultdict(dict)
    for (tid, day, source), figures in _sum_rows(tenant_ids, period, ("tenant_id", "day", "source")).items():
        rows[tid][(day, source)] = figures
    capacity: dict[int, dict] = defaultdict(dict)
    q = (select(StatisticsOfficeDay.tenant_id, StatisticsOfficeDay.day, func.sum(StatisticsOfficeDay.open_minutes),
                func.sum(StatisticsOfficeDay.held_back_minutes))
         .where(StatisticsOfficeDay.tenant_id.in_(tenant_ids), StatisticsOfficeDay.day >= period.first,
                StatisticsOfficeDay.day <= period.last)
         .group_by(StatisticsOfficeDay.tenant_id, StatisticsOfficeDay.day))
    for tid, day, o, h in db.session.execute(q):
        capacity[tid][day] = (int(o or 0), int(h or 0))
    return {tid: _summarise(rows[tid], capacity[tid], today) for tid in tenant_ids}


def _capacity(tenant_ids: list[int], period: Period) -> dict[date, tuple[int, int]]:
    q = (select(StatisticsOfficeDay.day, func.sum(StatisticsOfficeDay.open_minutes),
                func.sum(StatisticsOfficeDay.held_back_minutes))
         .where(StatisticsOfficeDay.tenant_id.in_(tenant_ids), StatisticsOfficeDay.day >= period.first,
                StatisticsOfficeDay.day <= period.last)
         .group_by(StatisticsOfficeDay.day))
    return {d: (int(o or 0), int(h or 0)) for d, o, h in db.session.execute(q)}


def _summarise(by_day_source: dict, capacity: dict, today: date) -> Summary:
    totals, by_source = _zero(), defaultdict(_zero)
    booked_open = staff = base = no_shows = 0
    for (day, source), figures in by_day_source.items():
        _add(totals, figures)
        _add(by_source[source], figures)
        if capacity.get(day, (0, 0))[0]:
            booked_open += figures["booked_minutes"]
            if source in ("phone", "emergency"):
                staff += figures["booked_minutes"]
        if day <= today:
            base += figures["appointments"]
            no_shows += figures["no_shows"]
    open_minutes = sum(v[0] for v in capacity.values())
    held = sum(v[1] for v in capacity.values())
    return Summary(totals, dict(by_source), open_minutes, held, booked_open, staff, base, no_shows)


def _sources_in(by_key: dict) -> list[str]:
    seen = {k[-1] for k in by_key}
    return [s for s in SOURCES if s in seen or s in ("online", "phone", "emergency")] + sorted(seen - set(SOURCES))


# --- the tables of one tenant --------------------------------------------------------------

def bookings_per_day(tenant_ids: list[int], period: Period) -> Table:
    rows_by = _sum_rows(tenant_ids, period, ("day", "source"))
    sources = _sources_in(rows_by)
    rows = []
    for day in period.days:
        counts = [rows_by.get((day, s), _zero())["bookings"] for s in sources]
        total = sum(counts)
        rows.append([day, *counts, total, pct(counts[0], total)])
    return Table("buchungen-pro-tag", N_("Buchungen pro Tag nach Weg"),
                 [Column(N_("Tag"), "date"), *(Column(SOURCE_LABELS.get(s, s)) for s in sources),
                  Column(N_("gesamt")), Column(N_("Online-Anteil (%)"), "pct")],
                 rows, chart="stacked", series=list(range(1, len(sources) + 1)))


def bookings_per_week(tenant_ids: list[int], period: Period) -> Table:
    daily = bookings_per_day(tenant_ids, period)
    n = len(daily.columns) - 3
    weeks: dict[date, list[int]] = {}
    for row in daily.rows:
        monday = row[0] - timedelta(days=row[0].weekday())
        acc = weeks.setdefault(monday, [0] * n)
        for i in range(n):
            acc[i] += row[1 + i]
    rows = [[monday, *counts, sum(counts), pct(counts[0], sum(counts))] for monday, counts in sorted(weeks.items())]
    return Table("buchungen-pro-woche", N_("Buchungen pro Woche nach Weg"),
                 [Column(N_("Woche ab"), "week"), *daily.columns[1:]], rows, chart="stacked",
                 series=list(range(1, n + 1)))


def days_until_free(tenant_ids: list[int], period: Period) -> Table:
    """Per service, the days until its next free online slot as recorded each day; a
    calendar full for the whole horizon shows as the horizon (noted)."""
    q = (select(StatisticsNextFree.day, Service.name, StatisticsNextFree.days, StatisticsNextFree.horizon_days)
         .join(Service, (Service.tenant_id == StatisticsNextFree.tenant_id)
               & (Service.id == StatisticsNextFree.service_id))
         .where(StatisticsNextFree.tenant_id.in_(tenant_ids), StatisticsNextFree.day >= period.first,
                StatisticsNextFree.day <= period.last)
         .order_by(Service.name))
    values: dict[str, dict[date, int | None]] = defaultdict(dict)
    for day, name, days, horizon in db.session.execute(q):
        values[name][day] = days if days is not None else horizon + 1
    names = sorted(values)
    rows = [[day, *(values[n].get(day) for n in names)] for day in period.days]
    return Table("tage-bis-frei", N_("Tage bis zum nächsten freien Termin je Dienstleistung"),
                 [Column(N_("Tag"), "date"), *(Column(n) for n in names)], rows, chart="line",
                 series=list(range(1, len(names) + 1)),
                 note=N_("Aufgezeichnet einmal täglich. Ein Wert über dem Buchungszeitraum heißt: "
                         "im ganzen Buchungszeitraum nichts frei."))


def utilisation(tenant_ids: list[int], period: Period) -> Table:
    booked: dict[date, int] = defaultdict(int)
    staff: dict[date, int] = defaultdict(int)
    for (day, source), f in _sum_rows(tenant_ids, period, ("day", "source")).items():
        booked[day] += f["booked_minutes"]
        if source in ("phone", "emergency"):
            staff[day] += f["booked_minutes"]
    capacity = _capacity(tenant_ids, period)
    rows = []
    for day in period.days:
        open_minutes, held = capacity.get(day, (0, 0))
        rows.append([day, booked[day], open_minutes, pct(booked[day], open_minutes), held, staff[day],
                     pct(staff[day], held)])
    return Table("auslastung", N_("Auslastung: gebuchte Minuten je geöffnete Schalterminute"),
                 [Column(N_("Tag"), "date"), Column(N_("gebuchte Minuten")), Column(N_("geöffnete Schalterminuten")),
                  Column(N_("Auslastung (%)"), "pct"), Column(N_("zurückgehaltene Minuten")),
                  Column(N_("davon vom Personal gebucht (Minuten)")), Column(N_("genutzter Rückhalt (%)"), "pct")],
                 rows, chart="line", series=[3, 6])


def rates(s: Summary) -> Table:
    t = s.totals
    rows = [
        [N_("Absagen durch Bürgerinnen und Bürger"), t["cancelled"] - t["cancelled_by_office"], s.bookings_ahead,
         s.citizen_cancel_rate],
        [N_("Absagen durch das Amt"), t["cancelled_by_office"], s.bookings_ahead, s.office_cancel_rate],
        [N_("Verschiebungen"), t["moves"], s.bookings_ahead, s.move_rate],
        [N_("Nicht erschienen"), s.no_shows_to_date, s.no_show_base, s.no_show_rate],
        [N_("Rückfragen „Kommen Sie?“ verschickt"), t["reconfirm_sent"], s.bookings_ahead,
         pct(t["reconfirm_sent"], s.bookings_ahead)],
        [N_("davon mit „Ja, ich komme“ beantwortet"), t["reconfirm_confirmed"], t["reconfirm_sent"],
         pct(t["reconfirm_confirmed"], t["reconfirm_sent"])],
        [N_("davon unbeantwortet freigegeben"), t["reconfirm_released"], t["reconfirm_sent"],
         pct(t["reconfirm_released"], t["reconfirm_sent"])],
    ]
    return Table("quoten", N_("Absagen, Verschiebungen und Nichterscheinen"),
                 [Column(N_("Kennzahl"), "text"), Column(N_("Anzahl")), Column(N_("Bezugsgröße")),
                  Column(N_("Quote (%)"), "pct")], rows, chart="bar", series=[3],
                 note=N_("Absagen, Verschiebungen und Rückfragen bezogen auf die Buchungen des Zeitraums, "
                         "Nichterscheinen auf die bis heute fälligen Termine, Antworten und Freigaben auf die "
                         "verschickten Rückfragen."))


def times(tenant_ids: list[int], period: Period) -> Table:
    per_day: dict[date, dict[str, int]] = defaultdict(_zero)
    ahead_of: dict[date, int] = defaultdict(int)
    for (day, source), figures in _sum_rows(tenant_ids, period, ("day", "source")).items():
        _add(per_day[day], figures)
        ahead_of[day] += figures["bookings"] if source != "walk_in" else 0
    rows = []
    for day in period.days:
        f, ahead = per_day[day], ahead_of[day]
        wait = ratio(f["wait_seconds"], f["waited"])
        served = ratio(f["service_seconds"], f["served"])
        lead = ratio(f["lead_minutes"], ahead)
        rows.append([day, None if lead is None else lead / 1440, None if wait is None else wait / 60,
                     None if served is None else served / 60, f["waited"]])
    return Table("zeiten", N_("Vorlauf, Wartezeit und Bedienzeit"),
                 [Column(N_("Tag"), "date"), Column(N_("Ø Vorlauf von der Buchung bis zum Termin (Tage)"), "dec"),
                  Column(N_("Ø Wartezeit vom Einchecken bis zum Aufruf (Minuten)"), "dec"),
                  Column(N_("Ø Bedienzeit vom Aufruf bis zum Abschluss (Minuten)"), "dec"),
                  Column(N_("Personen mit erfasster Wartezeit"))],
                 rows, chart="line", series=[1, 2, 3],
                 note=N_("Warte- und Bedienzeiten stehen hier, sobald die Warteschlange im Amt Einchecken, "
                         "Aufruf und Abschluss erfasst."))


def waitlist_and_emergencies(s: Summary) -> Table:
    t = s.totals
    rows = [
        [N_("Einträge auf der Warteliste"), t["waitlist_entries"]],
        [N_("Angebote aus der Warteliste"), t["waitlist_offers"]],
        [N_("davon angenommen"), t["waitlist_taken"]],
        [N_("Notfallanfragen"), t["emergency_requests"]],
        [N_("davon beantwortet"), t["emergency_answered"]],
        [N_("Ø Antwortzeit auf Notfallanfragen (Stunden)"), s.emergency_answer_hours],
        [N_("Vorsprachen ohne Termin bedient"), t["walk_ins_served"]],
        [N_("Aufgerufen und nicht erschienen"), t["queue_missed"]],
    ]
    return Table("warteliste-notfaelle", N_("Warteliste, Notfälle und Vorsprachen ohne Termin"),
                 [Column(N_("Kennzahl"), "text"), Column(N_("Wert"), "num")], rows, chart="bar", series=[1])


def by_office_and_service(tenant_ids: list[int], period: Period) -> Table:
    rows_by = _sum_rows(tenant_ids, period, ("office_id", "service_id"))
    names = dict(db.session.execute(select(Service.id, Service.name).where(Service.tenant_id.in_(tenant_ids))).all())
    offices = dict(db.session.execute(select(Office.id, Office.name).where(Office.tenant_id.in_(tenant_ids))).all())
    rows = []
    for (office_id, service_id), f in sorted(rows_by.items(), key=lambda kv: (offices.get(kv[0][0], ""),
                                                                          names.get(kv[0][1], ""))):
        lead = ratio(f["lead_minutes"], f["bookings"])
        rows.append([offices.get(office_id, "?"), names.get(service_id, "?"), f["bookings"], f["appointments"],
                     f["services"], f["cancelled"], f["no_shows"], None if lead is None else lead / 1440])
    return Table("nach-buero-und-dienstleistung", N_("Nach Büro und Dienstleistung"),
                 [Column(N_("Büro"), "text"), Column(N_("Dienstleistung"), "text"), Column(N_("Buchungen")),
                  Column(N_("Termine")), Column(N_("Dienstleistungen")), Column(N_("Absagen")),
                  Column(N_("Nicht erschienen")), Column(N_("Ø Vorlauf (Tage)"), "dec")], rows, chart="none")


def tenant_tables(tenant_id: int, period: Period, today: date) -> list[Table]:
    ids = [tenant_id]
    s = summary(ids, period, today)
    return [bookings_per_day(ids, period), bookings_per_week(ids, period), days_until_free(ids, period),
            utilisation(ids, period), rates(s), times(ids, period), waitlist_and_emergencies(s),
            by_office_and_service(ids, period)]


def comparison(current: Summary, before: Summary) -> list[list]:
    """The report's rows: figure, unit kind, this period, the previous one."""
    def row(label, kind, attr):
        now, then = (getattr(s, attr) if isinstance(attr, str) else attr(s) for s in (current, before))
        return [label, kind, now, then]

    return [
        row(N_("Buchungen"), "int", "bookings"),
        row(N_("Online-Anteil (%)"), "pct", "online_share"),
        row(N_("Auslastung (%)"), "pct", "utilisation"),
        row(N_("genutzter Rückhalt für das Personal (%)"), "pct", "held_back_used"),
        row(N_("Absagen durch Bürgerinnen und Bürger (%)"), "pct", "citizen_cancel_rate"),
        row(N_("Absagen durch das Amt (%)"), "pct", "office_cancel_rate"),
        row(N_("Verschiebungen (%)"), "pct", "move_rate"),
        row(N_("Nicht erschienen (%)"), "pct", "no_show_rate"),
        row(N_("Ø Vorlauf (Tage)"), "dec", "lead_days"),
        row(N_("Ø Wartezeit (Minuten)"), "dec", "wait_minutes"),
        row(N_("Ø Bedienzeit (Minuten)"), "dec", "service_minutes"),
        row(N_("Einträge auf der Warteliste"), "int", lambda s: s.totals["waitlist_entries"]),
        row(N_("Angebote aus der Warteliste angenommen"), "int", lambda s: s.totals["waitlist_taken"]),
        row(N_("Notfallanfragen"), "int", lambda s: s.totals["emergency_requests"]),
        row(N_("Ø Antwortzeit auf Notfallanfragen (Stunden)"), "dec", "emergency_answer_hours"),
    ]


# --- the district: every town side by side -------------------------------------------------------

def district_towns(district_id: int) -> list[tuple[int, str, str]]:
    """The towns of a district as (id, slug, name), by name: whom its figures set side by side."""
    with all_tenants():
        return [(t.id, t.slug, t.name) for t in db.session.scalars(
            select(Tenant).where(Tenant.parent_id == district_id).order_by(Tenant.name))]


def towns_side_by_side(towns: list[tuple[int, str]], period: Period, today: date) -> Table:
    """One row per town. Reads across tenants: the caller is district IT of these towns."""
    rows = []
    with all_tenants():
        by_town = summaries([tid for tid, _ in towns], period, today)
        for tid, name in towns:
            s = by_town[tid]
            rows.append([name, s.bookings, s.online_share, s.utilisation, s.citizen_cancel_rate,
                         s.office_cancel_rate, s.no_show_rate, s.lead_days, s.wait_minutes])
    return Table("gemeinden", N_("Alle Kommunen nebeneinander"),
                 [Column(N_("Kommune"), "text"), Column(N_("Buchungen")), Column(N_("Online-Anteil (%)"), "pct"),
                  Column(N_("Auslastung (%)"), "pct"), Column(N_("Absagen durch Bürgerinnen und Bürger (%)"), "pct"),
                  Column(N_("Absagen durch das Amt (%)"), "pct"), Column(N_("Nicht erschienen (%)"), "pct"),
                  Column(N_("Ø Vorlauf (Tage)"), "dec"), Column(N_("Ø Wartezeit (Minuten)"), "dec")],
                 rows, chart="bar", series=[1])


def towns_bookings_by_source(towns: list[tuple[int, str]], period: Period) -> Table:
    with all_tenants():
        rows_by = _sum_rows([t for t, _ in towns], period, ("tenant_id", "source"))
    sources = _sources_in(rows_by)
    rows = []
    for tid, name in towns:
        counts = [rows_by.get((tid, s), _zero())["bookings"] for s in sources]
        rows.append([name, *counts, sum(counts), pct(counts[0], sum(counts))])
    return Table("gemeinden-buchungen", N_("Buchungen je Kommune nach Weg"),
                 [Column(N_("Kommune"), "text"), *(Column(SOURCE_LABELS.get(s, s)) for s in sources),
                  Column(N_("gesamt")), Column(N_("Online-Anteil (%)"), "pct")],
                 rows, chart="stacked", series=list(range(1, len(sources) + 1)))


def daily_rows(tenants: dict[int, str], period: Period) -> Table:
    """The anonymous daily rows themselves, for the spreadsheet."""
    q = (select(StatisticsDay, Office.name, Service.name)
         .join(Office, (Office.tenant_id == StatisticsDay.tenant_id) & (Office.id == StatisticsDay.office_id))
         .join(Service, (Service.tenant_id == StatisticsDay.tenant_id) & (Service.id == StatisticsDay.service_id))
         .where(StatisticsDay.tenant_id.in_(list(tenants)), StatisticsDay.day >= period.first,
                StatisticsDay.day <= period.last)
         .order_by(StatisticsDay.day, StatisticsDay.tenant_id, Office.name, Service.name, StatisticsDay.source))
    with all_tenants():
        rows = [[r.day, tenants[r.tenant_id], office, service, SOURCE_LABELS.get(r.source, r.source),
                 *(getattr(r, f) for f in FIGURES)] for r, office, service in db.session.execute(q)]
    return Table("tageswerte", N_("Anonyme Tageswerte"),
                 [Column(N_("Tag"), "date"), Column(N_("Kommune"), "text"), Column(N_("Büro"), "text"),
                  Column(N_("Dienstleistung"), "text"), Column(N_("Weg"), "text"),
                  *(Column(FIGURE_LABELS[f]) for f in FIGURES)], rows, chart="none")


FIGURE_LABELS = {
    "bookings": N_("Buchungen"), "lead_minutes": N_("Vorlauf (Minuten, Summe)"), "appointments": N_("Termine"),
    "booked_minutes": N_("gebuchte Minuten"), "services": N_("Dienstleistungen"), "persons": N_("Personen"),
    "no_shows": N_("Nicht erschienen"), "checked_in": N_("Eingecheckt"), "completed": N_("Erledigt"),
    "waited": N_("Wartezeiten erfasst"), "wait_seconds": N_("Wartezeit (Sekunden, Summe)"),
    "served": N_("Bedienzeiten erfasst"), "service_seconds": N_("Bedienzeit (Sekunden, Summe)"),
    "cancelled": N_("Absagen"), "cancelled_by_office": N_("davon durch das Amt"), "moves": N_("Verschiebungen"),
    "waitlist_entries": N_("Wartelisteneinträge"), "waitlist_offers": N_("Wartelistenangebote"),
    "waitlist_taken": N_("Wartelistenangebote angenommen"), "emergency_requests": N_("Notfallanfragen"),
    "emergency_answered": N_("Notfallanfragen beantwortet"),
    "emergency_answer_minutes": N_("Antwortzeit Notfall (Minuten, Summe)"),
    "walk_ins_served": N_("Vorsprachen ohne Termin bedient"), "queue_missed": N_("Aufgerufen und nicht erschienen"),
    "reconfirm_sent": N_("Rückfragen verschickt"), "reconfirm_confirmed": N_("Rückfragen bestätigt"),
    "reconfirm_released": N_("unbestätigt freigegeben"),
}
