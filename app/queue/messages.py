"""What a page says when a queue action cannot be done (German, English by the catalogue)."""
from __future__ import annotations

from flask_babel import gettext as _

from app.queue.operations import QueueError


def describe(err: QueueError, *, to_local=None) -> str:
    d = err.details
    if err.code == "too_early":
        opens = to_local(d["opens"]) if to_local else d["opens"]
        return _("Das Einchecken ist ab %(time)s Uhr möglich. Bitte kommen Sie dann wieder.",
                 time=opens.strftime("%H:%M"))
    texts = {
        "no_queue": _("Dieses Büro führt heute keine Warteschlange."),
        "not_found": _("Zu diesem Buchungscode gibt es hier keinen Termin. Bitte prüfen Sie den Code."),
        "not_booked": _("Dieser Termin kann nicht eingecheckt werden (abgesagt oder schon erledigt). "
                        "Bitte wenden Sie sich an den Empfang."),
        "not_today": _("Ihr Termin ist nicht heute. Bitte kommen Sie am Tag Ihres Termins."),
        "too_late": _("Ihre Terminzeit ist schon vorbei. Bitte wenden Sie sich an den Empfang – wir finden "
                      "eine Lösung."),
        "quota_used_up": _("Für „%(service)s“ gibt es heute keine Wartenummern mehr. Bitte buchen Sie einen "
                           "Termin oder wenden Sie sich an den Empfang.", service=d.get("service", "")),
        "unknown_service": _("Diese Dienstleistung wird hier nicht angeboten."),
        "name_too_long": _("Der Name darf höchstens 100 Zeichen lang sein."),
        "stale": _("Der Stand hat sich inzwischen geändert (zweiter Klick oder anderes Fenster). "
                   "Bitte prüfen Sie die Anzeige."),
        "wrong_status": _("Das geht in diesem Zustand nicht mehr; die Anzeige wurde aktualisiert."),
        "other_office_counter": _("Dieser Schalter gehört zu einem anderen Büro."),
        "no_target": _("Bitte wählen Sie einen Schalter oder ein Büro."),
        "bad_prefix": _("Das Kürzel der Wartenummern besteht aus 1 bis 3 Buchstaben."),
        "bad_quota": _("Ein Kontingent liegt zwischen 0 und 999."),
    }
    return texts.get(err.code, _("Das hat nicht geklappt. Bitte versuchen Sie es noch einmal."))
