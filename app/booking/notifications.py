"""What a mail about an appointment says: the placeholders a template may use, the facts
below the text, the calendar file (for the mail and the download alike) and the links.
`app.mail` only renders, queues and delivers what this module hands it."""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import quote_plus

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import clock
from app.booking.models import ACTIVE_STATUSES, Appointment, AppointmentService
from app.catalog.visits import Visit
from app.extensions import db
from app.i18n import pick
from app.mail.ics import build_ics
from app.mail.models import OutboxMail
from app.mail.outbox import queue_event, queue_unrendered, register_renderer, rendered_event, sender_address
from app.mail.render import facts_text, format_date, format_time, weekday
from app.tenancy.resolve import TenantInfo, tenant_info
from app.urls import tenant_url

# event -> whether its calendar file cancels the appointment in the citizen's calendar
CALENDAR_EVENTS = {"confirmation": False, "moved": False, "reminder": False, "cancellation": True,
                   "office_cancelled": True, "reconfirm_released": True}
# Mails that carry the check-in QR code (the booking code, for the kiosk at the entrance).
CHECK_IN_EVENTS = ("confirmation", "moved", "reminder")

# events whose mail says until when the appointment can be moved and cancelled (CONTRACT §7)
DEADLINE_EVENTS = ("confirmation", "moved", "reminder", "reconfirm_request", "link_resend")
# events whose mail links straight to the page with the one "Termin absagen" button
ONE_CLICK_CANCEL_EVENTS = ("reminder", "reconfirm_request")
# events whose mail is about one appointment (its facts are added); the rest are plain texts
APPOINTMENT_EVENTS = ("confirmation", "moved", "reminder", "reconfirm_request", "link_resend", "cancellation", "office_cancelled",
                      "reconfirm_released", "waitlist_offer", "confirm_request")
# events that tell of an appointment that no longer takes place
GONE_EVENTS = ("cancellation", "office_cancelled", "reconfirm_released")

# What the facts of an appointment mail are called: (German, English).
LABELS = {
    "what": ("Anliegen", "Service"),
    "when": ("Wann", "When"),
    "where": ("Ort", "Where"),
    "entrance": ("Eingang", "Entrance"),
    "map": ("Karte", "Map"),
    "map_link": ("Auf der Karte ansehen (OpenStreetMap)", "Show on the map (OpenStreetMap)"),
    "documents": ("Bitte mitbringen", "Please bring"),
    "notices": ("Hinweise", "Notices"),
    "fee": ("Gebühr", "Fee"),
    "code": ("Buchungscode", "Booking code"),
    "manage": ("Termin verwalten", "Manage appointment"),
    "manage_link": ("Termin ansehen, verschieben oder absagen", "View, move or cancel the appointment"),
    "cancel": ("Absagen", "Cancel"),
    "cancel_link": ("Termin absagen", "Cancel the appointment"),
    "persons": ("Personen", "Persons"),
    "duration": ("Dauer", "Duration"),
    "changes": ("Verschieben und absagen", "Moving and cancelling"),
    "late": ("Verspätung", "Running late"),
    "answer_by": ("Bitte antworten bis", "Please answer by"),
    "coming": ("Kommen Sie?", "Are you coming?"),
    "coming_link": ("Ja, ich komme", "Yes, I am coming"),
}
# A map link built from the office's address: a link only, nothing is loaded into the mail.
MAP_SEARCH = "https://www.openstreetmap.org/search?query="

# (label, value) or (label, value, lang): `lang` names the language of a town's own text
# that differs from the mail's (German documents in an English mail), for lang="de" in HTML.
Facts = list[tuple]


def manage_url(tenant: TenantInfo, appt: Appointment) -> str:
    return tenant_url(tenant, "citizen.manage", token=appt.manage_token)


def confirm_url(tenant: TenantInfo, appt: Appointment) -> str:
    """The link of a confirm-by-e-mail mail."""
    return tenant_url(tenant, "confirm.confirm", token=appt.manage_token)


def visit_lines(appt: Appointment, lang: str) -> list[str]:
    """Each service of the visit with its count, one line each ("Personalausweis beantragen – 2 Personen")."""
    return [f"{svc.display_name(lang)} – {persons_label(count, lang)}" for svc, count in appt.services_with_counts()]


def persons_label(count: int, lang: str) -> str:
    if lang == "en":
        return "1 person" if count == 1 else f"{count} persons"
    return "1 Person" if count == 1 else f"{count} Personen"


def visit_title(appt: Appointment, lang: str) -> str:
    """The visit in a few words, for subjects and texts: its services, counts above one in brackets."""
    parts = []
    for svc, count in appt.services_with_counts():
        parts.append(svc.display_name(lang) + (f" ({persons_label(count, lang)})" if count > 1 else ""))
    joiner = " and " if lang == "en" else " und "
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + joiner + parts[-1]


def visit_fees(appt: Appointment, lang: str) -> list[str]:
    """The fee of each service of the visit, named (one service: its fee alone)."""
    items = appt.services_with_counts()
    if len(items) == 1:
        fee = items[0][0].fee_for(lang)
        return [fee] if fee else []
    return [pick(fee.lang, f"{svc.display_name(lang)}: {fee}", f"{svc.display_name(lang)}: {fee}")
            for svc, fee in ((svc, svc.fee_for(lang)) for svc, _ in items) if fee]


def moment_text(moment, tz: str, lang: str) -> str:
    """"Montag, 23.11.2026, 09:30 Uhr" / "Monday, 23 November 2026, 09:30"."""
    text = f"{weekday(moment, tz, lang)}, {format_date(moment, tz, lang)}, {format_time(moment, tz)}"
    return text if lang == "en" else text + " Uhr"


def appointment_context(tenant: TenantInfo, appt: Appointment, lang: str, **extra) -> dict:
    """Plain values only: what a mail template may show."""
    tz = tenant.timezone
    office = appt.office
    entrance = appt.entrance
    items = appt.services_with_counts()
    ctx = {
        "name": appt.name, "service": visit_title(appt, lang), "date": format_date(appt.starts_at, tz, lang),
        "time": format_time(appt.starts_at, tz), "end_time": format_time(appt.ends_at, tz),
        "weekday": weekday(appt.starts_at, tz, lang), "office": office.name, "address": office.address,
        "entrance": entrance.name if entrance else "", "directions": entrance.directions_for(lang) if entrance else "",
        "code": appt.code, "manage_url": manage_url(tenant, appt), "booking_url": tenant_url(tenant, "citizen.home"),
        "tenant": tenant.name, "phone": tenant.contact_phone, "persons": appt.persons, "reason": "",
        "documents": Visit.of_appointment(appt).documents(lang), "notices": office.notices_for(lang),
        "fee": "; ".join(visit_fees(appt, lang)), "_fees": visit_fees(appt, lang),
    }
    move_until = appt.starts_at - timedelta(hours=int(tenant.settings["cancel_deadline_hours"]))
    ctx["cancel_url"] = tenant_url(tenant, "citizen.cancel", token=appt.manage_token)
    ctx["reconfirm_url"] = tenant_url(tenant, "citizen.reconfirm", token=appt.manage_token)
    # Whether moving online is still possible when the mail is written (a booking for
    # tomorrow morning: no longer; the mail then says so calmly instead of a past time).
    ctx["_movable"] = clock.now() <= move_until
    ctx["move_until"] = moment_text(move_until, tz, lang)
    reconfirm_until = appt.starts_at - timedelta(hours=int(tenant.settings["reconfirm_deadline_hours"]))
    ctx["reconfirm_until"] = moment_text(reconfirm_until, tz, lang)
    if len(items) > 1 or items[0][1] > 1:
        # A visit: each service with its count and the expected time (not a template
        # placeholder: they go into the facts below the text).
        ctx["_visit"] = visit_lines(appt, lang)
        minutes = round((appt.ends_at - appt.starts_at).total_seconds() / 60)
        ctx["_duration"] = f"about {minutes} minutes" if lang == "en" else f"etwa {minutes} Minuten"
    ctx.update(extra)
    return ctx


def text_lang(lang: str, *values) -> tuple:
    """() when the values are in the mail's language, else ("de",): a town's texts are German
    unless they say otherwise (a value may carry `.lang`, as on the pages)."""
    langs = {getattr(v, "lang", "de") for value in values for v in (value if isinstance(value, list) else [value])
             if v}
    other = sorted(langs - {lang})
    return (other[0],) if other else ()


def map_url(address: str) -> str:
    return MAP_SEARCH + quote_plus(" ".join(address.split()))


def appointment_facts(ctx: dict, lang: str, event: str) -> Facts:
    """What a mail lists between its text and its sign-off, in the order a visit needs it:
    what, when, where and how to get there, what to bring, what it costs, the house's
    notices, the deadlines, the booking code and the one manage link. Each fact once."""
    lab = {key: names[1 if lang == "en" else 0] for key, names in LABELS.items()}
    span = f"{ctx['time']}–{ctx['end_time']}" + (" Uhr" if lang != "en" else "")
    facts: Facts = [(lab["what"], ctx["_visit"]) if ctx.get("_visit") else (lab["what"], ctx["service"])]
    if ctx.get("_visit"):
        facts.append((lab["duration"], ctx["_duration"]))
    elif ctx["persons"] and ctx["persons"] > 1:
        facts.append((lab["persons"], str(ctx["persons"])))
    facts.append((lab["when"], f"{ctx['weekday']}, {ctx['date']}, {span}"))
    facts.append((lab["where"], f"{ctx['office']}, {ctx['address']}",
                  *text_lang(lang, ctx["office"], ctx["address"])))
    if event in GONE_EVENTS:
        facts.append((lab["code"], ctx["code"]))
        return facts
    if ctx["entrance"]:
        facts.append((lab["entrance"], f"{ctx['entrance']}. {ctx['directions']}".strip(),
                      *text_lang(lang, ctx["directions"] or ctx["entrance"])))  # the name: a proper name
    if ctx["address"]:
        facts.append((lab["map"], {"href": map_url(ctx["address"]), "text": lab["map_link"]}))
    if ctx["documents"]:
        facts.append((lab["documents"], ctx["documents"], *text_lang(lang, ctx["documents"])))
    fees = ctx.get("_fees", [ctx["fee"]] if ctx["fee"] else [])
    if fees:
        facts.append((lab["fee"], fees[0] if len(fees) == 1 else fees, *text_lang(lang, fees)))
    if ctx["notices"]:
        facts.append((lab["notices"], ctx["notices"], *text_lang(lang, ctx["notices"])))
    if event in ("waitlist_offer", "confirm_request"):  # not booked yet: the text carries its one link
        return facts
    if event in DEADLINE_EVENTS:
        facts.append((lab["changes"], deadlines_line(ctx, lang)))
        if ctx.get("phone"):
            facts.append((lab["late"], (f"If you are running late, please call us: {ctx['phone']}" if lang == "en"
                                        else f"Wenn Sie sich verspäten, rufen Sie uns bitte an: {ctx['phone']}")))
    if event == "reconfirm_request":
        facts.append((lab["answer_by"], ctx["reconfirm_until"]))
        facts.append((lab["coming"], {"href": ctx["reconfirm_url"], "text": lab["coming_link"], "button": True}))
    if event in ONE_CLICK_CANCEL_EVENTS:
        facts.append((lab["cancel"], {"href": ctx["cancel_url"], "text": lab["cancel_link"]}))
    facts.append((lab["code"], ctx["code"]))
    # One manage link; the prominent button unless the mail asks for an answer.
    facts.append((lab["manage"], {"href": ctx["manage_url"], "text": lab["manage_link"],
                                  "button": event != "reconfirm_request"}))
    return facts


def deadlines_line(ctx: dict, lang: str) -> str:
    """Until when the appointment can be moved online, and that cancelling works until the start."""
    if lang == "en":
        if ctx.get("_movable", True):
            return f"Move online until {ctx['move_until']}; cancel until the start."
        return "Moving online is no longer possible; you can cancel until the start."
    if ctx.get("_movable", True):
        return f"Online verschieben bis {ctx['move_until']}; absagen bis zum Beginn."
    return "Verschieben ist online nicht mehr möglich; absagen können Sie bis zum Beginn."


def appointment_uid(tenant_slug: str, appointment_id: int, base_domain: str) -> str:
    """The event's UID: the same for every file of one appointment, and not guessable from
    another's (a keyed hash of tenant and id; changing SECRET_KEY changes every UID)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"ics:{tenant_slug}:{appointment_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{digest}@{base_domain}"


def appointment_ics(tenant: TenantInfo, appt: Appointment, ctx: dict, facts: Facts, *, cancelled: bool) -> str:
    """The calendar file of an appointment: one UID per appointment, SEQUENCE raised on every change."""
    return build_ics(
        uid=appointment_uid(tenant.slug, appt.id, current_app.config["BASE_DOMAIN"]), sequence=appt.sequence,
        start=appt.starts_at, end=appt.ends_at, tz_name=tenant.timezone,
        summary=f"{ctx['service']} – {tenant.name}", location=f"{ctx['office']}, {ctx['address']}",
        description=facts_text(facts), url=ctx["manage_url"], cancelled=cancelled,
        organizer_email=tenant.contact_email or sender_address(tenant), organizer_name=tenant.name,
    )


def calendar_file(tenant: TenantInfo, appt: Appointment, lang: str) -> str:
    """The .ics a citizen downloads from the manage page: the same file the mails carry."""
    cancelled = appt.status == "cancelled"
    ctx = appointment_context(tenant, appt, lang)
    facts = appointment_facts(ctx, lang, "cancellation" if cancelled else "confirmation")
    return appointment_ics(tenant, appt, ctx, facts, cancelled=cancelled)


def queue_mail(event: str, appt: Appointment, *, to: str | None = None, lang: str | None = None,
               **extra) -> OutboxMail | None:
    """Add `event`'s mail for `appt` to the outbox, unrendered; None without an address.
    The worker renders it (`render_appointment_mail`) from the appointment as it then is.

    `to` and `lang` default to the appointment's citizen (a waiting-list offer goes elsewhere);
    `extra` are placeholders of this mail's own (plain values: a reason, a link)."""
    to = appt.email if to is None else to
    if not to:
        return None
    lang = lang or appt.lang
    lang = lang if lang in ("de", "en") else "de"
    return queue_unrendered(appt.tenant_id, event, to, appointment_id=appt.id, lang=lang, context=extra)


def warranted(event: str, appt: Appointment) -> bool:
    """Whether the appointment, as it is when the worker renders, still calls for this mail.
    A mail about a booking (confirmation, moved, reminder, …) is dropped once it is
    cancelled — the cancellation mail tells what happened; a cancellation always goes; a
    request to confirm only while the booking is still held; a waiting-list offer is about
    a freed slot, so its appointment is cancelled by nature."""
    if event == "waitlist_offer":
        return True
    if event in GONE_EVENTS:
        return appt.status == "cancelled"
    if event == "confirm_request":
        return appt.status == "booked" and appt.hold_expires_at is not None
    return appt.status in ACTIVE_STATUSES and appt.hold_expires_at is None


def render_appointment_mail(row: OutboxMail) -> dict | None:
    """The rendered fields of an unrendered appointment mail (`queue_mail`), from the
    appointment, its office and the tenant's texts as they are now; None when the
    appointment is gone or no longer warrants the mail."""
    appt = db.session.get(Appointment, row.appointment_id) if row.appointment_id else None
    if appt is None or not warranted(row.event, appt):
        return None
    tenant = tenant_info(row.tenant_id)
    lang = row.lang if row.lang in ("de", "en") else "de"
    event = row.event
    ctx = appointment_context(tenant, appt, lang, **(row.context or {}))
    facts = appointment_facts(ctx, lang, event)
    ics = None
    if event in CALENDAR_EVENTS:
        ics = appointment_ics(tenant, appt, ctx, facts, cancelled=CALENDAR_EVENTS[event])
    return rendered_event(tenant, event, ctx, lang=lang, facts=facts, ics=ics,
                          qr=ctx["code"] if event in CHECK_IN_EVENTS else None)


def preload_appointments(rows: list[OutboxMail]) -> list[Appointment]:
    """What `render_appointment_mail` reads for a batch of one tenant's rows, in two
    statements: the appointments with their office, entrance and service, then their
    visits' services; the renderer then finds them in the session."""
    ids = sorted({row.appointment_id for row in rows if row.appointment_id})
    if not ids:
        return []
    return db.session.scalars(
        select(Appointment).where(Appointment.id.in_(ids)).options(
            joinedload(Appointment.office), joinedload(Appointment.entrance), joinedload(Appointment.service),
            selectinload(Appointment.visit_items).joinedload(AppointmentService.service))
    ).unique().all()


register_renderer(APPOINTMENT_EVENTS, render_appointment_mail, preload=preload_appointments)


def queue_waitlist_joined(entry) -> OutboxMail:
    """Confirm joining the waiting list (`entry`, a WaitlistEntry), with the leave link."""
    tenant = tenant_info(entry.tenant_id)
    return queue_event(tenant, "waitlist_joined", entry.email,
                       {"name": entry.name, "service": entry.service.display_name(entry.lang),
                        "leave_url": waitlist_leave_url(entry)}, lang=entry.lang)


def waitlist_leave_url(entry) -> str:
    """The page of a waiting-list entry (a WaitlistEntry), where its citizen leaves the list."""
    return tenant_url(tenant_info(entry.tenant_id), "citizen.waitlist_entry", token=entry.token, lang=entry.lang)


def queue_draw_mail(event: str, entry, *, leave_url: str = "") -> OutboxMail:
    """A fair draw's mail to the citizen of `entry` (a DrawEntry): 'draw_entered' (when the
    draw is held) or 'draw_lost' (no place drawn; on the waiting list, `leave_url` leaves it)."""
    tenant = tenant_info(entry.tenant_id)
    tz, lang = tenant.timezone, entry.lang
    draw = entry.draw
    return queue_event(tenant, event, entry.email, {
        "name": entry.name, "service": draw.service.display_name(lang),
        "date": format_date(entry.starts_at, tz, lang), "time": format_time(entry.starts_at, tz),
        "weekday": weekday(entry.starts_at, tz, lang), "draw_date": format_date(draw.closes_at, tz, lang),
        "draw_time": format_time(draw.closes_at, tz), "leave_url": leave_url,
        "entry_url": tenant_url(tenant, "citizen.draw_entry", token=entry.token, lang=lang),
        "booking_url": tenant_url(tenant, "citizen.home")}, lang=lang)


def queue_waitlist_offer(entry, freed: Appointment, start: str) -> OutboxMail | None:
    """Tell a waiting citizen (`entry`, a WaitlistEntry) that `freed`'s slot (at `start`,
    local ISO time) is free; the link books it. Nothing of the cancelled appointment's
    citizen goes into the mail."""
    tenant = tenant_info(freed.tenant_id)
    book_url = tenant_url(tenant, "citizen.book", service=freed.service.slug, start=start, lang=entry.lang,
                          offer=entry.token)
    return queue_mail("waitlist_offer", freed, to=entry.email, lang=entry.lang, name=entry.name,
                      manage_url=book_url, persons=1, code="")
