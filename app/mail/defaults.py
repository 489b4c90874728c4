"""Built-in mail texts, German and English. A district overrides them, a town overrides
the district's; what a tenant has not changed follows the level above.

Placeholders (plain values only, app.mail.render.PLACEHOLDERS): name, service, date, time,
end_time, weekday, office, address, entrance, directions, code, manage_url, booking_url,
tenant, phone, persons, reason, documents, notices, fee, move_until; the reply to an emergency request
also `answer` (the clerk's text), an invitation `role`, `link` (set the password), `login`
and `sender` (who invites). The facts block (documents, notices, fee, address) is always
added below an appointment's text, so a changed text can never drop them.
"""

BUILTIN: dict[str, dict[str, dict[str, str]]] = {
    "confirmation": {
        "de": {
            "subject": "Terminbestätigung: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin für „{{ service }}“ ist gebucht: {{ weekday }}, {{ date }}, um {{ time }} Uhr "
                    "bei {{ office }}.\n\n"
                    "Bitte kommen Sie pünktlich zum Eingang „{{ entrance }}“. {{ directions }}\n\n"
                    "Ihr Buchungscode: {{ code }}\n"
                    "Termin ansehen, verschieben oder absagen: {{ manage_url }}\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment confirmed: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "Your appointment for \"{{ service }}\" is booked: {{ weekday }}, {{ date }} at {{ time }} "
                    "at {{ office }}.\n\n"
                    "Please arrive on time at the entrance \"{{ entrance }}\". {{ directions }}\n\n"
                    "Your booking code: {{ code }}\n"
                    "View, move or cancel the appointment: {{ manage_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "cancellation": {
        "de": {
            "subject": "Termin abgesagt: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin für „{{ service }}“ am {{ date }} um {{ time }} Uhr ist abgesagt.\n"
                    "Einen neuen Termin können Sie jederzeit online buchen.\n\n"
                    "Buchungscode: {{ code }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment cancelled: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "Your appointment for \"{{ service }}\" on {{ date }} at {{ time }} has been cancelled.\n"
                    "You can book a new appointment online at any time.\n\n"
                    "Booking code: {{ code }}\n\nKind regards\n{{ tenant }}",
        },
    },
    "moved": {
        "de": {
            "subject": "Termin verschoben: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "Ihr Termin für „{{ service }}“ ist verschoben auf {{ weekday }}, {{ date }}, {{ time }} Uhr, "
                    "bei {{ office }}.\n\n"
                    "Eingang: „{{ entrance }}“. {{ directions }}\n\n"
                    "Ihr Buchungscode: {{ code }}\n"
                    "Termin ansehen, verschieben oder absagen: {{ manage_url }}\n\n"
                    "Mit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Appointment moved: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "Your appointment for \"{{ service }}\" has been moved to {{ weekday }}, {{ date }} at {{ time }}, "
                    "at {{ office }}.\n\n"
                    "Entrance: \"{{ entrance }}\". {{ directions }}\n\n"
                    "Your booking code: {{ code }}\n"
                    "View, move or cancel the appointment: {{ manage_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "reminder": {
        "de": {
            "subject": "Erinnerung: {{ service }} am {{ date }} um {{ time }} Uhr",
            "body": "Guten Tag {{ name }},\n\n"
                    "wir erinnern Sie an Ihren Termin für „{{ service }}“: {{ weekday }}, {{ date }}, {{ time }} Uhr, "
                    "bei {{ office }}, Eingang „{{ entrance }}“.\n\n"
                    "Sie können nicht kommen? Bitte sagen Sie ab, damit andere den Termin nutzen können: "
                    "{{ manage_url }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Reminder: {{ service }} on {{ date }} at {{ time }}",
            "body": "Hello {{ name }},\n\n"
                    "this is a reminder of your appointment for \"{{ service }}\": {{ weekday }}, {{ date }} at "
                    "{{ time }}, at {{ office }}, entrance \"{{ entrance }}\".\n\n"
                    "Cannot come? Please cancel so that someone else can use the slot: {{ manage_url }}\n\n"
                    "Kind regards\n{{ tenant }}",
        },
    },
    "waitlist_offer": {
        "de": {
            "subject": "Ein Termin ist frei geworden: {{ service }} am {{ date }}",
            "body": "Guten Tag {{ name }},\n\n"
                    "für „{{ service }}“ ist ein Termin frei geworden: {{ weekday }}, {{ date }}, {{ time }} Uhr. "
                    "Wer zuerst bucht, erhält ihn: {{ manage_url }}\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "An appointment became free: {{ service }} on {{ date }}",
            "body": "Hello {{ name }},\n\n"
                    "an appointment for \"{{ service }}\" became free: {{ weekday }}, {{ date }} at {{ time }}. "
                    "First come, first served: {{ manage_url }}\n\nKind regards\n{{ tenant }}",
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
                    "leider müssen wir Ihren Termin für „{{ service }}“ am {{ date }} um {{ time }} Uhr absagen. "
                    "{{ reason }}\n\n"
                    "Bitte buchen Sie einen neuen Termin: {{ booking_url }}\n"
                    "Bei Fragen erreichen Sie uns unter {{ phone }}.\n\nMit freundlichen Grüßen\n{{ tenant }}",
        },
        "en": {
            "subject": "Your appointment on {{ date }} has to be cancelled",
            "body": "Hello {{ name }},\n\n"
                    "unfortunately we have to cancel your appointment for \"{{ service }}\" on {{ date }} at {{ time }}. "
                    "{{ reason }}\n\n"
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
