"""The legal pages on every tenant host (CONTRACT §6): Impressum, privacy notice,
accessibility statement with its feedback form, Leichte Sprache, sign language."""
from __future__ import annotations

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.citizen import bp
from app.citizen.views import posts_limited
from app.extensions import db
from app.i18n import current_lang
from app.legal.feedback import FeedbackInvalid, submit_feedback
from app.legal.fields import A11Y_STATUSES, legal_view, state_rules
from app.publishing.contact import usable_brand_colour
from app.tenancy.models import Tenant
from app.transaction import commit


def _page(template: str, status: int = 200, **extra):
    tenant = db.session.get(Tenant, g.tenant.id)
    if tenant is None:
        abort(404)
    return render_template(template, tenant=tenant, legal=legal_view(tenant, current_lang()),
                           a11y_statuses=A11Y_STATUSES, **extra), status


@bp.get("/impressum")
def impressum():
    return _page("citizen/legal/impressum.html")


@bp.get("/datenschutz")
def datenschutz():
    return _page("citizen/legal/datenschutz.html")


@bp.route("/barrierefreiheit", methods=["GET", "POST"])
@posts_limited
def barrierefreiheit():
    form: dict = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("name", "email", "page", "message")}
        try:
            submit_feedback(g.tenant, lang=current_lang(), **form)
        except FeedbackInvalid as exc:
            messages = {"empty": _("Bitte beschreiben Sie, was nicht zugänglich ist."),
                        "too_long": _("Bitte fassen Sie sich kürzer (höchstens 5000 Zeichen)."),
                        "invalid": _("Bitte geben Sie eine gültige E-Mail-Adresse an.")}
            errors = {field: messages[code] for field, code in exc.errors.items()}
            db.session.rollback()
            return _page("citizen/legal/barrierefreiheit.html", 422, form=form, errors=errors)
        commit()
        return redirect(url_for("citizen.barrierefreiheit", sent=1) + "#feedback", code=303)
    return _page("citizen/legal/barrierefreiheit.html", form=form, errors=errors,
                 sent=request.args.get("sent") == "1")


@bp.get("/leichte-sprache")
def leichte_sprache():
    return _page("citizen/legal/leichte_sprache.html")


@bp.get("/gebaerdensprache")
def gebaerdensprache():
    if not state_rules(g.tenant.state).sign_language_required:
        abort(404)  # the tenant's state asks for no sign-language page
    return _page("citizen/legal/gebaerdensprache.html")


@bp.get("/brand.css")
def brand_css():
    """The tenant's colour, as a stylesheet from this host (the pages allow no inline styles)."""
    colour = usable_brand_colour(g.tenant.texts.get("branding_color"))
    css = f":root {{ --brand: {colour}; --brand-dark: {colour}; }}\n" if colour else ""
    return Response(css, mimetype="text/css", headers={"Cache-Control": "max-age=60"})


def legal_links() -> list[tuple[str, str]]:
    """The footer's links (endpoint, label) for the current tenant."""
    links = [("citizen.impressum", _("Impressum")), ("citizen.datenschutz", _("Datenschutz")),
             ("citizen.barrierefreiheit", _("Barrierefreiheit")), ("citizen.leichte_sprache", _("Leichte Sprache"))]
    tenant = g.get("tenant")
    if tenant is not None and state_rules(tenant.state).sign_language_required:
        links.append(("citizen.gebaerdensprache", _("Gebärdensprache")))
    return links


@bp.app_context_processor
def _legal_helpers() -> dict:
    return {"legal_links": legal_links, "brand_colour": lambda: usable_brand_colour(
        (g.get("tenant").texts if g.get("tenant") else {}).get("branding_color"))}
