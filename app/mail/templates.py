"""A tenant's own mail texts: checking and saving them, going back to the inherited text,
and the sample values of the live preview. They flush, never commit."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.mail.models import EVENTS, MailTemplate
from app.mail.render import TemplateProblem, check_template
from app.validators import Invalid

# The events an admin edits in the back office, in the order the list shows them.
MAIL_EVENTS = ("confirmation", "cancellation", "moved", "reminder", "reconfirm_request", "reconfirm_released",
               "waitlist_joined", "waitlist_offer", "draw_entered", "draw_lost", "office_cancelled",
               "confirm_request", "emergency_reply", "invitation", "link_resend")
LANGS = ("de", "en")


def check_mail_text(subject: str, body: str) -> None:
    """Raises Invalid naming the subject or text that is empty, too long or not a valid template."""
    errors = {}
    if not 1 <= len(subject.strip()) <= 300:
        errors["Betreff"] = "muss 1 bis 300 Zeichen lang sein"
    if not body.strip():
        errors["Text"] = "darf nicht leer sein"
    for label, source in (("Betreff", subject), ("Text", body)):
        if label in errors:
            continue
        try:
            check_template(source)
        except TemplateProblem as exc:
            errors[label] = f"Vorlage {exc.german}"
    if errors:
        raise Invalid(errors)


def own_template(event: str, lang: str) -> MailTemplate | None:
    """The current tenant's own text of `event` in `lang`, if it has one."""
    return db.session.scalar(select(MailTemplate).where(MailTemplate.event == event, MailTemplate.lang == lang))


def save_mail_template(event: str, lang: str, subject: str, body: str) -> MailTemplate:
    if event not in EVENTS or lang not in LANGS:
        raise Invalid({"Ereignis": "unbekannt"})
    check_mail_text(subject, body)
    row = own_template(event, lang)
    if row is None:
        row = MailTemplate(event=event, lang=lang, subject=subject.strip(), body=body.strip())
        db.session.add(row)
    row.subject, row.body, row.admin_edited = subject.strip(), body.strip(), True
    db.session.flush()
    return row


def reset_mail_template(event: str, lang: str) -> dict | None:
    """Drop the tenant's own text: the inherited one applies again. Returns what was dropped."""
    row = own_template(event, lang)
    if row is None:
        return None
    before = {"subject": row.subject, "body": row.body}
    db.session.delete(row)
    db.session.flush()
    return before


def sample_context(tenant, lang: str) -> dict:
    """Sample data for the live preview: plain values, as a real mail gets them."""
    return {"name": "Erika Mustermann", "service": "Personalausweis beantragen", "date": "24.11.2026" if lang == "de"
            else "24 November 2026", "time": "09:30", "end_time": "09:50",
            "weekday": "Dienstag" if lang == "de" else "Tuesday", "office": "Bürgerbüro",
            "address": "Rathausplatz 1", "entrance": "Haupteingang", "directions": "Im Erdgeschoss rechts.",
            "code": "ABCD-2345", "manage_url": "https://example.org/manage/…",
            "cancel_url": "https://example.org/manage/…/cancel",
            "reconfirm_url": "https://example.org/manage/…/reconfirm",
            "reconfirm_until": "Sonntag, 22.11.2026, 09:30 Uhr" if lang == "de" else "Sunday, 22 November 2026, 09:30", "booking_url": "https://example.org/",
            "tenant": tenant.name, "phone": tenant.contact_phone, "persons": 1,
            "reason": "Wegen einer Personalversammlung.", "documents": ["Personalausweis", "Passbild"],
            "notices": ["Bitte pünktlich kommen."], "fee": "37,00 €",
            "move_until": "Montag, 23.11.2026, 09:30 Uhr" if lang == "de" else "Monday, 23 November 2026, 09:30",
            "answer": "Kommen Sie bitte morgen um 8 Uhr ins Bürgerbüro." if lang == "de"
            else "Please come to the citizens' office tomorrow at 8 a.m.",
            "role": "staff", "link": "https://example.org/admin/invitation/…",
            "login": "https://example.org/admin/login",
            "leave_url": "https://example.org/waitlist/entry?token=…",
            "draw_date": "26.10.2026" if lang == "de" else "26 October 2026", "draw_time": "08:00",
            "entry_url": "https://example.org/draw/…",
            "sender": tenant.name}
