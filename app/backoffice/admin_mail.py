"""Admin: mail texts per event and language, with a live preview and "back to the
inherited text" (delete this tenant's row)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audit, role_required
from app.mail.render import TemplateProblem, render_string, template_chain
from app.mail.templates import (LANGS, MAIL_EVENTS, check_mail_text, own_template, reset_mail_template,
                                sample_context, save_mail_template)
from app.transaction import commit
from app.validators import Invalid

EVENT_LABELS = {"confirmation": "Bestätigung", "cancellation": "Absage durch Bürger", "moved": "Verschiebung",
                "reminder": "Erinnerung", "waitlist_offer": "Angebot Warteliste",
                "office_cancelled": "Absage durch das Amt", "confirm_request": "Bitte um Bestätigung"}


def _chain_ids() -> list[int]:
    return [g.tenant.id] + ([g.tenant.parent_id] if g.tenant.parent_id else [])


def _check_event(event: str, lang: str) -> None:
    if event not in MAIL_EVENTS or lang not in LANGS:
        abort(404)


@bp.route("/mail")
@role_required("admin")
def mail_templates():
    rows = []
    for event in MAIL_EVENTS:
        for lang in LANGS:
            origin = template_chain(_chain_ids(), event, lang)[0][2]
            rows.append((event, lang, origin))
    return render_template("backoffice/mail_list.html", rows=rows, labels=EVENT_LABELS)


def _preview(subject: str, body: str, lang: str) -> tuple[str, str]:
    ctx = sample_context(g.tenant, lang)
    return render_string(subject, ctx), render_string(body, ctx)


@bp.route("/mail/<event>/<lang>", methods=["GET", "POST"])
@role_required("admin")
def mail_edit(event: str, lang: str):
    _check_event(event, lang)
    subject, body, origin = template_chain(_chain_ids(), event, lang)[0]
    ctx = {"event": event, "lang": lang, "origin": origin, "label": EVENT_LABELS[event],
           "inherited": next((c for c in template_chain(_chain_ids(), event, lang) if c[2] != "own"), None)}
    if request.method == "POST":
        subject, body = request.form.get("subject", ""), request.form.get("body", "")
        try:
            check_mail_text(subject, body)
            preview = _preview(subject, body, lang)
        except (Invalid, TemplateProblem) as exc:
            errors = exc.errors if isinstance(exc, Invalid) else {"Text": str(exc)}
            return render_template("backoffice/mail_edit.html", subject=subject, body=body, errors=errors,
                                   **ctx), 422
        if request.form.get("action") == "preview":
            return render_template("backoffice/mail_edit.html", subject=subject, body=body, preview=preview, **ctx)
        before = _own(event, lang)
        save_mail_template(event, lang, subject, body)
        audit("mail_template_saved", "mail_template", f"{event}.{lang}", before=before,
              after={"subject": subject.strip(), "body": body.strip()})
        commit()
        flash("Mailtext gespeichert.")
        return redirect(url_for("backoffice.mail_edit", event=event, lang=lang))
    return render_template("backoffice/mail_edit.html", subject=subject, body=body,
                           preview=_preview(subject, body, lang), **ctx)


def _own(event: str, lang: str) -> dict | None:
    row = own_template(event, lang)
    return {"subject": row.subject, "body": row.body} if row else None


@bp.route("/mail/<event>/<lang>/reset", methods=["POST"])
@role_required("admin")
def mail_reset(event: str, lang: str):
    _check_event(event, lang)
    before = reset_mail_template(event, lang)
    if before is not None:
        audit("mail_template_reset", "mail_template", f"{event}.{lang}", before=before, after=None)
        commit()
    flash("Der übernommene Text gilt wieder.")
    return redirect(url_for("backoffice.mail_edit", event=event, lang=lang))
