"""Rendering mail texts: built-in, district and town templates in a locked-down sandbox."""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterator

from flask import render_template
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy import select

from app.extensions import db
from app.mail.defaults import BUILTIN
from app.mail.models import MailTemplate
from app.scheduling.calendar import zone
from app.tenancy.scope import all_tenants

log = logging.getLogger(__name__)

MAX_TEMPLATE_CHARS = 10_000
MAX_OUTPUT_CHARS = 50_000
ALLOWED_FILTERS = {"upper", "lower", "title", "capitalize", "default", "join", "trim", "length", "first", "last"}
ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Filter, nodes.If,
    nodes.For, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Concat, nodes.CondExpr,
    nodes.Test,
)
PLACEHOLDERS = ("name", "service", "date", "time", "end_time", "weekday", "office", "address", "entrance",
                "directions", "code", "manage_url", "booking_url", "tenant", "phone", "persons", "reason",
                "documents", "notices", "fee", "move_until", "cancel_url", "reconfirm_url",
                "reconfirm_until", "answer", "role", "link", "login", "sender", "leave_url",
                "draw_date", "draw_time", "entry_url")

WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")

_env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_env.globals.clear()  # no range(), lipsum(), dict(), cycler(): plain data only
_env.filters = {k: v for k, v in _env.filters.items() if k in ALLOWED_FILTERS}


class TemplateProblem(ValueError):
    """What is wrong with a mail text; `german` says it for the back office."""

    def __init__(self, message: str, german: str | None = None):
        super().__init__(message)
        self.german = german or message


def format_date(dt: datetime, tz_name: str, lang: str) -> str:
    local = dt.astimezone(zone(tz_name))
    if lang == "en":
        return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"
    return local.strftime("%d.%m.%Y")


def format_time(dt: datetime, tz_name: str) -> str:
    return dt.astimezone(zone(tz_name)).strftime("%H:%M")


def weekday(dt: datetime, tz_name: str, lang: str) -> str:
    return WEEKDAYS["en" if lang == "en" else "de"][dt.astimezone(zone(tz_name)).weekday()]


def check_template(source: str) -> None:
    """Refuse anything beyond placeholders, filters, conditions and short loops."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(f"is longer than {MAX_TEMPLATE_CHARS} characters",
                              f"ist länger als {MAX_TEMPLATE_CHARS} Zeichen")
    try:
        tree = _env.parse(source)
    except TemplateError as exc:
        line = f" in Zeile {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise TemplateProblem(f"has a syntax error: {exc}",
                              f"hat einen Syntaxfehler{line} ({_german_syntax(str(exc.message or exc))})") from exc
    _check_node(tree, 0, frozenset(PLACEHOLDERS) | {"loop"})


def _german_syntax(message: str) -> str:
    """Jinja's commonest complaints in words an admin reads; anything else as Jinja says it."""
    known = [("unexpected end of template", "die Vorlage endet zu früh – fehlt ein {% endif %} oder {% endfor %}?"),
             ("unexpected '}'", "eine geschweifte Klammer zu viel oder zu wenig: Platzhalter so: {{ name }}"),
             ("unexpected char", "ein Zeichen, das hier nicht stehen darf"),
             ("expected token 'end of print statement'", "ein Platzhalter ist nicht geschlossen: so {{ name }}"),
             ("encountered unknown tag", "unbekannter Befehl in {% … %}")]
    lower = message.lower()
    return next((german for english, german in known if english in lower), message)


def _check_node(node: nodes.Node, loops: int, names: frozenset) -> None:
    if not isinstance(node, ALLOWED_NODES):
        raise TemplateProblem(f"uses {type(node).__name__}, which mail texts may not use; "
                              "use placeholders like {{ name }} and {{ date }}",
                              "enthält etwas, das Mailtexte nicht dürfen; bitte nur Platzhalter wie {{ name }} "
                              "und {{ date }}")
    if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
        raise TemplateProblem(f"uses the filter '{node.name}', which mail texts may not use",
                              f"nutzt den Filter „{node.name}“, den Mailtexte nicht nutzen dürfen")
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in names:
        raise TemplateProblem(f"uses the unknown placeholder '{node.name}'",
                              f"nutzt den unbekannten Platzhalter „{node.name}“")
    if isinstance(node, nodes.For):
        loops += 1
        if loops > 1:
            raise TemplateProblem("nests loops, which mail texts may not do",
                                  "verschachtelt Schleifen; das dürfen Mailtexte nicht")
        targets = [node.target, *node.target.find_all(nodes.Name)]
        names = names | {n.name for n in targets if isinstance(n, nodes.Name)}
    for child in node.iter_child_nodes():
        _check_node(child, loops, names)


@lru_cache(maxsize=512)
def _compiled(source: str):
    """Checked and compiled once per distinct text (every booking renders the same few)."""
    check_template(source)
    return _env.from_string(source)


def render_string(source: str, context: dict) -> str:
    template = _compiled(source)
    out = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateProblem("renders too much text")
        out.append(chunk)
    return "".join(out).strip()


@dataclass
class RenderedText:
    subject: str
    body: str
    origin: str  # "own", "district" or "built-in"


# While a batch of mails renders (`shared_texts()`): (tenants, event, lang) -> the chain.
_shared_chains: ContextVar[dict | None] = ContextVar("shared_chains", default=None)


@contextlib.contextmanager
def shared_texts() -> Iterator[None]:
    """Inside the block every text chain is read once (a batch of mails renders in one
    transaction, so they all see the texts as they were when it began)."""
    token = _shared_chains.set({})
    try:
        yield
    finally:
        _shared_chains.reset(token)


def text_chain(tenant) -> list[int]:
    """Whose mail texts apply to `tenant`, nearest first: its own, then its district's."""
    return [tenant.id] + ([tenant.parent_id] if tenant.parent_id else [])


def template_chain(tenant_ids: list[int], event: str, lang: str) -> list[tuple[str, str, str]]:
    """(subject, body, origin) from the tenant up to the built-in text, nearest first."""
    shared = _shared_chains.get()
    if shared is None:
        return _template_chain(tenant_ids, event, lang)
    key = (tuple(tenant_ids), event, lang)
    if key not in shared:
        shared[key] = _template_chain(tenant_ids, event, lang)
    return shared[key]


def _template_chain(tenant_ids: list[int], event: str, lang: str) -> list[tuple[str, str, str]]:
    chain: list[tuple[str, str, str]] = []
    with all_tenants():
        rows = {
            row.tenant_id: row for row in db.session.scalars(
                select(MailTemplate).where(MailTemplate.tenant_id.in_(tenant_ids), MailTemplate.event == event,
                                           MailTemplate.lang == lang)
            )
        }
    for i, tid in enumerate(tenant_ids):
        if tid in rows:
            chain.append((rows[tid].subject, rows[tid].body, "own" if i == 0 else "district"))
    builtin = BUILTIN[event]["en" if lang == "en" else "de"]
    chain.append((builtin["subject"], builtin["body"], "built-in"))
    return chain


def render_text(tenant_ids: list[int], event: str, lang: str, context: dict) -> RenderedText:
    """The nearest template that renders; a broken one is reported and skipped, never fatal."""
    for subject_src, body_src, origin in template_chain(tenant_ids, event, lang):
        try:
            subject = " ".join(render_string(subject_src, context).split())[:250]
            body = render_string(body_src, context)
            return RenderedText(subject, body, origin)
        except (TemplateError, TemplateProblem, TypeError, ValueError) as exc:
            log.warning("mail template failed, using the inherited one",
                        extra={"event": event, "tenant": tenant_ids[0], "msg_detail": type(exc).__name__})
    raise RuntimeError("built-in mail template failed")  # pragma: no cover - built-ins are tested


def text_to_html(text: str) -> Markup:
    """Paragraphs of escaped text, line breaks kept, links clickable."""
    parts = []
    for para in text.split("\n\n"):
        lines = [_linkify(str(escape(line))) for line in para.split("\n")]
        parts.append("<p>" + "<br>\n".join(lines) + "</p>")
    return Markup("\n".join(parts))


def _linkify(escaped_line: str) -> str:
    words = []
    for word in escaped_line.split(" "):
        if word.startswith(("https://", "http://")):
            words.append(f'<a href="{word}">{word}</a>')
        else:
            words.append(word)
    return " ".join(words)


def link_value(value) -> bool:
    """A fact's value that is a link: {"href": url, "text": what the HTML shows}; "button"
    makes it the one prominent action of the mail (the manage link)."""
    return isinstance(value, dict) and "href" in value


def facts_text(facts) -> str:
    """The plain-text form of a mail's (label, value[, lang]) table; a list value one item a
    line, a link as its address."""
    lines = []
    for label, value, *_ in facts:
        if isinstance(value, list):
            lines.append(f"{label}:")
            lines.extend(f"  - {item}" for item in value)
        elif link_value(value):
            lines.append(f"{label}: {value['href']}")
        else:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def split_closing(body: str) -> tuple[str, str]:
    """A text's last paragraph is its greeting and sign-off ("Mit freundlichen Grüßen …"):
    in a mail with facts it goes below them, at the very end. One paragraph: no sign-off."""
    paras = body.strip().split("\n\n")
    if len(paras) < 2:
        return body.strip(), ""
    return "\n\n".join(paras[:-1]).strip(), paras[-1].strip()


def mail_plain(body: str, facts) -> str:
    """The text part: the text, the facts, then the sign-off (the same order as the HTML)."""
    if not facts:
        return body
    intro, closing = split_closing(body)
    return "\n\n".join(part for part in (intro, facts_text(facts), closing) if part)


def mail_html(subject: str, body: str, facts, *, lang: str = "de", qr: str | None = None) -> str:
    """The HTML part, ready for a phone: one column at most 600 px wide, inline styles only;
    the text, the facts (links as links, the manage link as a button), the check-in code,
    then the sign-off. Context in, HTML out."""
    intro, closing = split_closing(body) if facts else (body, "")
    return render_template("mail/message.html", intro=text_to_html(intro),
                           closing=text_to_html(closing) if closing else "", facts=facts or [], lang=lang,
                           subject=subject, qr=qr)
