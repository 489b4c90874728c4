"""The visit page: several concerns and persons in one appointment, then the proposal
for the whole visit.

Everything is a GET form (no JavaScript needed): the form carries the services chosen so
far (`item`), a persons count per service (`count-<slug>`), and a button that adds the
service picked in `add` or removes one; the answer is a redirect to the visit's own
address, `/visit?services=personalausweis:2,reisepass`, the same notation as the API.
"""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from app import clock
from app.catalog import visits
from app.catalog.models import online_services
from app.citizen import bp
from app.citizen.calendar import month_view
from app.i18n import current_lang
from app.scheduling.calendar import zone
from app.scheduling.slots import Policy


def requested_from_form(args) -> list[tuple[str, int]]:
    """The services the form carries, with the change its button asks for applied."""
    items: list[tuple[str, int]] = []
    for slug in args.getlist("item"):
        try:
            count = int(args.get(f"count-{slug}", "1"))
        except ValueError:
            count = 1
        if slug and all(slug != s for s, _ in items):
            items.append((slug[:63], max(1, min(count, 10))))
    remove = args.get("remove")
    if remove:
        items = [(s, n) for s, n in items if s != remove]
    add = args.get("add")
    if args.get("action") == "add" and add and all(add != s for s, _ in items):
        items.append((add[:63], 1))
    return items


@bp.get("/visit")
def visit_page():
    if "item" in request.args:
        items = requested_from_form(request.args)
        if not items:
            return redirect(url_for("citizen.home"), code=303)
        return redirect(url_for("citizen.visit_page", services=visits.format_param(items)), code=303)
    try:
        requested = visits.parse(request.args.get("services"))
    except visits.VisitProblem:
        abort(404)
    policy = Policy.of(g.tenant)
    try:
        visit = visits.resolve(g.tenant, requested)
    except visits.VisitProblem as exc:
        # Show what was asked for, with the reason, so the citizen can change it here.
        kept = [(s, n) for s, n in requested][:10]
        return render_template("citizen/visit.html", visit=None, requested=kept, problem=exc.explain(current_lang()),
                               services_by_slug=_services_by_slug(), addable=[]), 422
    view = month_view(visit, policy, clock.now(), month_arg=request.args.get("month"),
                      day_arg=request.args.get("day"))
    param = visit.param
    return render_template(
        "citizen/visit.html", visit=visit, requested=[(s.slug, n) for s, n in visit.items], problem=None,
        view=view, office=visit.first.office, addable=visit.addable(g.tenant), services_by_slug=_services_by_slug(),
        slot_url=lambda s: url_for("citizen.book", services=param, start=_local_iso(s.start)),
        page_url=lambda **kw: url_for("citizen.visit_page", services=param, **kw),
    )


def _services_by_slug() -> dict:
    return {s.slug: s for s in online_services()}


def _local_iso(dt) -> str:
    return dt.astimezone(zone(g.tenant.timezone)).isoformat()
