"""Built-in mail texts, German and English. A district overrides them, a town overrides
the district's; what a tenant has not changed follows the level above.

Placeholders (plain values only, app.mail.render.PLACEHOLDERS): name, service, date, time,
end_time, weekday, office, address, entrance, directions, code, manage_url, booking_url,
tenant, phone, persons, reason, documents, notices, fee, move_until, cancel_url,
reconfirm_url, reconfirm_until (the "Kommen Sie?" answer deadline); the reply to an emergency request
also `answer` (the clerk's text), an invitation `role`, `link` (set the password), `login`
and `sender` (who invites). The facts (what, when, where, entrance, map link, documents,
fee, notices, deadlines, code, manage link) are always added to an appointment's mail
between its text and its last paragraph, the greeting: a changed text can never drop them,
and need not repeat them.
"""

BUILTIN: dict[str, dict[str, dict[str, str]]] = {
    "confirmation": {
        "de": {
            "subject": "Terminbestätigung: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin ist gebucht. Hier finden Sie alles, was Sie für Ihren Besuch brauchen.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment confirmed: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "your appointment is booked. Here is everything you need for your visit.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "cancellation": {
        "de": {
            "subject": "Termin abgesagt: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin ist abgesagt. Einen neuen Termin können Sie jederzeit online buchen: "
                    "{{ booking_url }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment cancelled: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "your appointment has been cancelled. You can book a new one online at any time: "
                    "{{ booking_url }}\n\nKind regards\n{{ tenant }}",
        },
    },
    "moved": {
        "de": {
            "subject": "Termin verschoben: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin ist verschoben. Hier sind die neuen Angaben.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment moved: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "your appointment has been moved. Here are the new details.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "link_resend": {
        "de": {
            "subject": "Ihr Termin-Link: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Sie haben den Link zu Ihrem Termin erneut angefordert. Mit ihm können Sie den Termin "
                    "ansehen, verschieben oder absagen.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Your appointment link: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "you asked for the link to your appointment again. With it you can view, move or cancel "
                    "the appointment.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "reminder": {
        "de": {
            "subject": "Erinnerung: {{ service }} am {{ date }} um {{ time }} Uhr",
            "body": "Guten Tag {{ name }},\n\n"
                    "wir erinnern Sie an Ihren Termin. Sie können nicht kommen? Dann sagen Sie ihn bitte ab, "
                    "damit jemand anderes die Zeit nutzen kann – ein Klick auf „Termin absagen“ genügt.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Reminder: {{ service }} on {{ date }} at {{ time }}",
            "body": "Hello {{ name }},\n\n"
                    "this is a reminder of your appointment. Cannot come? Please cancel it so that someone "
                    "else can use the time – one click on \"Cancel the appointment\" is enough.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "reconfirm_request": {
        "de": {
            "subject": "Kommen Sie? {{ service }} am {{ date }} um {{ time }} Uhr",
            "body": "Guten Tag {{ name }},\n\n"
                    "kommen Sie zu Ihrem Termin? Bitte sagen Sie es uns mit einem Klick auf „Ja, ich komme“. Ohne "
                    "Antwort bis zur Frist geben wir den Termin für andere frei. Wenn Sie nicht kommen können, "
                    "sagen Sie ihn bitte ab.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Are you coming? {{ service }} on {{ date }} at {{ time }}",
            "body": "Hello {{ name }},\n\n"
                    "are you coming to your appointment? Please tell us with one click on \"Yes, I am coming\". "
                    "Without an answer by the deadline we release the appointment for others. If you cannot come, "
                    "please cancel it.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "reconfirm_released": {
        "de": {
            "subject": "Termin freigegeben: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Sie haben Ihren Termin nicht bis {{ reconfirm_until }} bestätigt. Deshalb haben wir ihn für "
                    "andere freigegeben. Einen neuen Termin können Sie jederzeit online buchen: {{ booking_url }}\n"
                    "Bei Fragen erreichen Sie uns unter {{ phone }}.\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment released: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "you did not confirm your appointment by {{ reconfirm_until }}, so we have released it for "
                    "others. You can book a new appointment online at any time: {{ booking_url }}\n"
                    "Questions? Call us at {{ phone }}.\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "waitlist_joined": {
        "de": {
            "subject": "Sie stehen auf der Warteliste: {{ service }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Sie stehen auf der Warteliste für „{{ service }}“. Wird ein Termin frei, der zu Ihren Wünschen "
                    "passt, bekommt ihn zuerst angeboten, wer sich am frühesten eingetragen hat: per E-Mail mit "
                    "einem Link, der ihn bucht.\n\n"
                    "Möchten Sie keine Angebote mehr? Hier tragen Sie sich aus: {{ leave_url }}\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "You are on the waiting list: {{ service }}",
            "body": "Hello {{ name }},\n\n"
                    "you are on the waiting list for \"{{ service }}\". When an appointment that matches your "
                    "wishes becomes free, it is offered first to whoever joined earliest: by e-mail, with a link "
                    "that books it.\n\n"
                    "No more offers wanted? Leave the waiting list here: {{ leave_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "waitlist_offer": {
        "de": {
            "subject": "Ein Termin ist frei geworden: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "für „{{ service }}“ ist ein Termin frei geworden: {{ weekday }}, {{ date }}, {{ time }} Uhr. "
                    "Sie bekommen das Angebot, weil Sie sich mit passenden Wünschen am frühesten eingetragen haben. "
                    "Über diesen Link buchen Sie ihn: {{ manage_url }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "An appointment became free: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "an appointment for \"{{ service }}\" became free: {{ weekday }}, {{ date }} at {{ time }}. "
                    "You get this offer because you joined earliest with matching wishes. "
                    "This link books it: {{ manage_url }}\n\nKind regards\n{{ tenant }}",
        },
    },
    "draw_entered": {
        "de": {
            "subject": "Ihre Teilnahme an der Verlosung: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Sie nehmen an der Verlosung der Termine für „{{ service }}“ am {{ weekday }}, {{ date }}, teil "
                    "(gewünscht: {{ time }} Uhr). Die Verlosung findet am {{ draw_date }} um {{ draw_time }} Uhr statt. "
                    "Alle Anfragen bis dahin haben die gleiche Chance, egal wie früh sie kamen.\n\n"
                    "Danach bekommen Sie eine E-Mail: mit Ihrem Termin (der gewünschte oder der nächste freie an "
                    "diesem Tag) oder mit Ihrem Platz auf der Warteliste. Ihre Teilnahme: {{ entry_url }}\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "You are taking part in the draw: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "you are taking part in the draw of the appointments for \"{{ service }}\" on {{ weekday }}, "
                    "{{ date }} (asked for: {{ time }}). The draw takes place on {{ draw_date }} at {{ draw_time }}. "
                    "Every request until then has the same chance, however early it came.\n\n"
                    "Afterwards you get an e-mail: with your appointment (the one you asked for or the nearest free "
                    "one that day) or with your place on the waiting list. Your entry: {{ entry_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "draw_lost": {
        "de": {
            "subject": "Kein Termin gelost: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "bei der Verlosung der Termine für „{{ service }}“ am {{ weekday }}, {{ date }}, wurde für Sie "
                    "leider kein Termin gelost – es gab mehr Anfragen als freie Zeiten. Sie stehen auf der "
                    "Warteliste: Wird ein Termin frei, bekommen Sie ihn per E-Mail angeboten.\n\n"
                    "Möchten Sie keine Angebote? Hier tragen Sie sich aus: {{ leave_url }}\n"
                    "Neue Termine können Sie auch jederzeit online buchen: {{ booking_url }}\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "No appointment drawn: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "in the draw of the appointments for \"{{ service }}\" on {{ weekday }}, {{ date }}, no "
                    "appointment was drawn for you, sorry – there were more requests than free times. You are on "
                    "the waiting list: when an appointment becomes free, it is offered to you by e-mail.\n\n"
                    "No offers wanted? Leave the waiting list here: {{ leave_url }}\n"
                    "You can also book new appointments online at any time: {{ booking_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "confirm_request": {
        "de": {
            "subject": "Bitte bestätigen: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "wir halten Ihnen den Termin für „{{ service }}“ am {{ weekday }}, {{ date }}, um {{ time }} Uhr "
                    "frei. Bitte bestätigen Sie ihn innerhalb der nächsten Minuten über diesen Link, sonst wird er "
                    "wieder freigegeben:\n{{ manage_url }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Please confirm: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "we are holding the appointment for \"{{ service }}\" on {{ weekday }}, {{ date }} at {{ time }} "
                    "for you. Please confirm it within the next few minutes with this link, otherwise it is "
                    "released again:\n{{ manage_url }}\n\nKind regards\n{{ tenant }}",
        },
    },
    "office_cancelled": {
        "de": {
            "subject": "Ihr Termin am {{ date }} muss leider entfallen",
            "body": "Guten Tag {{ name }},\n\n"
                    "leider müssen wir Ihren Termin absagen. {{ reason }}\n\n"
                    "Bitte buchen Sie einen neuen Termin: {{ booking_url }}\n"
                    "Bei Fragen erreichen Sie uns unter {{ phone }}.\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Your appointment on {{ date }} has to be cancelled",
            "body": "Hello {{ name }},\n\n"
                    "unfortunately we have to cancel your appointment. {{ reason }}\n\n"
                    "Please book a new appointment: {{ booking_url }}\n"
                    "Questions? Call us at {{ phone }}.\n\nKind regards\n{{ tenant }}",
        },
    },
    "emergency_reply": {
        "de": {
            "subject": "Ihre Notfallanfrage – {{ tenant }}",
            "body": "Guten Tag {{ name }},\n\n{{ answer }}\n\nMit freundlichen Grüßen\n{{ tenant }}\n{{ phone }}",
        },
        "en": {
            "subject": "Your emergency request – {{ tenant }}",
            "body": "Hello {{ name }},\n\n{{ answer }}\n\nKind regards\n{{ tenant }}\n{{ phone }}",
        },
    },
    "invitation": {
        "de": {
            "subject": "Ihr Zugang zum Back Office – {{ tenant }}",
            "body": "Guten Tag,\n\n"
                    "für Sie wurde ein Zugang zum Back Office der Online-Terminvergabe von {{ tenant }} eingerichtet "
                    "({{ role }}).\n\n"
                    "Bitte legen Sie hier Ihr Passwort fest; der Link gilt 7 Tage und nur einmal:\n{{ link }}\n\n"
                    "Danach melden Sie sich hier an: {{ login }}\n\nMit freundlichen Grüßen\n{{ sender }}",
        },
        "en": {
            "subject": "Your back-office access – {{ tenant }}",
            "body": "Hello,\n\n"
                    "an account for the back office of {{ tenant }}'s online appointments has been set up for you "
                    "({{ role }}).\n\n"
                    "Please set your password here; the link is valid for 7 days and works once:\n{{ link }}\n\n"
                    "Afterwards, sign in here: {{ login }}\n\nKind regards\n{{ sender }}",
        },
    },
}
