"""/admin/statistics: the pilot's figures as charts with tables, CSV, a printable report.

Admins see their own tenant. District IT on the district's host sees every town of its
district side by side, and one town in detail with `?town=SLUG` (only its own towns). The
figures come from app.statistics; this module only translates HTTP.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, g, make_response, render_template, request
from flask_babel import gettext
from flask_login import current_user

from app.backoffice import bp
from app.backoffice.access import role_required
from app.backoffice.common import parse_day, today
from app.i18n import current_lang
from app.statistics import charts, figures
from app.statistics.export import to_csv
from app.tenancy.scope import all_tenants, tenant_scope

MAX_DAYS = 366
DEFAULT_DAYS = 28


class BadPeriod(ValueError):
    pass


def fmt(value, kind: str) -> str:
    """A figure as the page shows it: German decimal comma and thousands dot, or English."""
    english = current_lang() == "en"
    if value is None:
        return "–"
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if kind == "text":
        return gettext(str(value))
    if isinstance(value, float) or kind in ("pct", "dec"):
        text = f"{float(value):,.1f}"
    else:
        text = f"{int(value):,}"
    return text if english else text.translate(str.maketrans({",": ".", ".": ","}))


def change(now, then, kind: str) -> str:
    if now is None or then is None:
        return "–"
    diff = now - then
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    return sign + fmt(abs(diff), kind)


def page(template: str, **context):
    # Labels from app.statistics go through gettext() itself: no %-formatting of their "(%)".
    return render_template(template, fmt=fmt, change=change, t=gettext, **context)


def _period() -> figures.Period:
    last = parse_day(request.args.get("to"), today())
    first = parse_day(request.args.get("from"), (last or today()) - timedelta(days=DEFAULT_DAYS - 1))
    if first is None or last is None:
        raise BadPeriod(gettext("Bitte Datumsangaben im Format JJJJ-MM-TT angeben."))
    if last < first:
        raise BadPeriod(gettext("Das Ende des Zeitraums liegt vor seinem Anfang."))
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(gettext("Der Zeitraum darf höchstens %(days)s Tage lang sein.", days=MAX_DAYS))
    return figures.Period(first, last)


def _district_view() -> bool:
    return g.tenant.kind == "district" and current_user.can("district-it")


def _towns() -> list[tuple[int, str, str]]:
    return figures.district_towns(g.tenant.id)


def _subject() -> tuple[int, str, str] | None:
    """The one tenant shown in detail: this one, or (district IT) a town of this district.
    None: the district's overview of all its towns."""
    slug = request.args.get("town")
    if not _district_view():
        if slug and slug != g.tenant.slug:
            abort(404)
        return g.tenant.id, g.tenant.slug, g.tenant.name
    if not slug:
        return None
    town = next((t for t in _towns() if t[1] == slug), None)
    if town is None:
        abort(404)
    return town


def _tables(subject, period: figures.Period) -> list[figures.Table]:
    if subject is None:
        towns = [(tid, name) for tid, _, name in _towns()]
        return [figures.towns_side_by_side(towns, period, today()),
                figures.towns_bookings_by_source(towns, period)]
    with tenant_scope(subject[0]):
        return figures.tenant_tables(subject[0], period, today())


def _asked(plain: bool = False) -> tuple[figures.Period, tuple[int, str, str] | None]:
    """The period and the subject the request asks for. A bad period ends the request with
    422: the page with the message, or (`plain`, for a download) the message as text."""
    try:
        period = _period()
    except BadPeriod as exc:
        if plain:
            abort(Response(str(exc), 422, mimetype="text/plain"))
        abort(make_response(page("backoffice/statistics.html", error=str(exc), tables=[], charts={}, period=None,
                                 subject=None, towns=[], args={}), 422))
    return period, _subject()


@bp.route("/statistics")
@role_required("admin")
def statistics():
    period, subject = _asked()
    tables = _tables(subject, period)
    no_data = gettext("Keine Daten im Zeitraum")
    rendered = {t.key: charts.render(t, gettext, no_data=no_data) for t in tables}
    return page("backoffice/statistics.html", tables=tables, charts=rendered, period=period,
                           subject=subject, towns=_towns() if _district_view() else [],
                           args=_args(period, subject))


def _args(period: figures.Period, subject) -> dict:
    args = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    if subject is not None and _district_view():
        args["town"] = subject[1]
    return args


@bp.route("/statistics.csv")
@role_required("admin")
def statistics_csv():
    period, subject = _asked(plain=True)
    key = request.args.get("figure", "")
    if key == "tageswerte":
        tenants = {subject[0]: subject[2]} if subject else {tid: name for tid, _, name in _towns()}
        table = figures.daily_rows(tenants, period)
    else:
        table = next((t for t in _tables(subject, period) if t.key == key), None)
        if table is None:
            abort(404)
    name = f"statistik-{subject[1] if subject else g.tenant.slug}-{table.key}-{period.first}-{period.last}.csv"
    return Response(to_csv(table, gettext), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/statistics/report")
@role_required("admin")
def statistics_report():
    period, subject = _asked()
    previous = period.previous()
    now_day = today()
    if subject is None:
        ids = [tid for tid, _, _ in _towns()]
        with all_tenants():
            current, before = figures.summary(ids, period, now_day), figures.summary(ids, previous, now_day)
            weekly = figures.towns_bookings_by_source([(tid, name) for tid, _, name in _towns()], period)
    else:
        with tenant_scope(subject[0]):
            current = figures.summary([subject[0]], period, now_day)
            before = figures.summary([subject[0]], previous, now_day)
            weekly = figures.bookings_per_week([subject[0]], period)
    chart = charts.render(weekly, gettext, no_data=gettext("Keine Daten im Zeitraum"))
    return page("backoffice/statistics_report.html", period=period, previous=previous,
                           rows=figures.comparison(current, before), subject=subject, weekly=weekly, chart=chart,
                           args=_args(period, subject))

