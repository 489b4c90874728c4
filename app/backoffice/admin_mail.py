"""Admin: mail texts per event and language, with a live preview and "back to the
inherited text" (delete this tenant's row)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, role_required
from app.mail.render import TemplateProblem, template_chain, text_chain
from app.mail.templates import LANGS, MAIL_EVENTS, check_mail_text, own_template, reset_mail_template, save_mail_template
from app.publishing.preview import mail_preview, send_test_mail
from app.transaction import commit
from app.validators import Invalid

EVENT_LABELS = {"confirmation": "Bestätigung", "cancellation": "Absage durch die buchende Person", "moved": "Verschiebung",
                "reminder": "Erinnerung", "reconfirm_request": "Rückfrage „Kommen Sie?“",
                "reconfirm_released": "Freigabe ohne Rückmeldung", "waitlist_joined": "Eintrag in die Warteliste",
                "waitlist_offer": "Angebot Warteliste", "draw_entered": "Teilnahme an der Verlosung",
                "draw_lost": "Verlosung ohne Termin (Warteliste)",
                "office_cancelled": "Absage durch das Amt", "confirm_request": "Bitte um Bestätigung",
                "emergency_reply": "Antwort auf eine Notfallanfrage", "invitation": "Einladung ins Back Office",
                "link_resend": "Termin-Link erneut senden"}


def _chain_ids() -> list[int]:
    return text_chain(g.tenant)


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
            preview = mail_preview(g.tenant, event, subject, body, lang)
        except (Invalid, TemplateProblem) as exc:
            errors = exc.errors if isinstance(exc, Invalid) else {"Text": f"Vorlage {exc.german}"}
            return render_template("backoffice/mail_edit.html", subject=subject, body=body, errors=errors,
                                   **ctx), 422
        if request.form.get("action") == "preview":
            return render_template("backoffice/mail_edit.html", subject=subject, body=body, preview=preview, **ctx)
        if request.form.get("action") == "test":
            send_test_mail(g.tenant.id, current_user.email, preview, lang)
            audit("test_mail_sent", "mail_template", f"{event}.{lang}", after={"to": current_user.email})
            commit()
            flash(f"Testmail an {current_user.email} ist unterwegs (Text, gespeichert ist nichts).")
            return render_template("backoffice/mail_edit.html", subject=subject, body=body, preview=preview, **ctx)
        before = _own(event, lang)
        save_mail_template(event, lang, subject, body)
        return audited_redirect(url_for("backoffice.mail_edit", event=event, lang=lang), "mail_template_saved",
                                "mail_template", f"{event}.{lang}", "Mailtext gespeichert.", before=before,
                                after={"subject": subject.strip(), "body": body.strip()})
    return render_template("backoffice/mail_edit.html", subject=subject, body=body,
                           preview=mail_preview(g.tenant, event, subject, body, lang), **ctx)


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
