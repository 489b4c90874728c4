"""Sending a built message: to the console and instance/mail/, or over SMTP (MAIL_URL)."""
from __future__ import annotations

import binascii
import smtplib
import ssl
import sys
import threading
import uuid
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from app.mail import qr
from app.mail.models import OutboxMail


class TransportError(Exception):
    pass


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A text part in UTF-8, quoted-printable (readable, 7-bit safe whatever the server
    offers; binascii's encoder, not the email package's character-by-character one)."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode(), istext=True).decode("ascii"))
    return part


def _multipart(subtype: str, parts: list, *, top: bool = False) -> MIMEMultipart:
    """A multipart with a boundary of its own: "=_" cannot occur in quoted-printable or
    base64 lines, so the generator need not search the parts for it (a regular expression
    compiled per boundary, per mail)."""
    part = MIMEMultipart(subtype, boundary=f"=_{uuid.uuid4().hex}", _subparts=parts)
    if not top:
        del part["MIME-Version"]
    return part


def _header(value: str, name: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _address(value: str) -> str:
    """`Name <addr>` (as `composed()` writes it) with the name quoted where it needs it, or
    an encoded word outside ASCII; the address stays as it is."""
    name, sep, rest = value.rpartition("<")
    if not sep or not rest.endswith(">"):
        return value
    return formataddr((name.strip(), rest[:-1].strip()), charset="utf-8")


def build_message(row: OutboxMail) -> Message:
    """The MIME message of a rendered row: text and HTML alternatives, the check-in QR code
    inside the HTML part (multipart/related), the calendar file attached.

    Built with the `compat32` classes, which take headers as given: the default policy's
    `EmailMessage` parses and refolds every header it is handed, which cost most of a mail's
    building (~280 header-parser objects per mail)."""
    body: Message = _multipart("alternative", [_text_part(row.text_body, "plain")], top=not row.ics)
    html = _text_part(row.html_body, "html")
    payload = qr.payload_of(row.html_body)
    if payload:  # the check-in QR code, shown inside the HTML part
        image = MIMEImage(qr.png(payload), "png")
        del image["MIME-Version"]
        image["Content-ID"] = f"<{qr.CID}>"
        image.add_header("Content-Disposition", "inline", filename="checkin-qr.png")
        html = _multipart("related", [html, image])
    body.attach(html)
    if row.ics:
        method = "CANCEL" if "METHOD:CANCEL" in row.ics else "PUBLISH"
        calendar = MIMEBase("text", "calendar", method=method, charset="utf-8")
        del calendar["MIME-Version"]
        calendar.set_payload(row.ics.encode())
        encode_base64(calendar)
        calendar.add_header("Content-Disposition", "attachment", filename="termin.ics")
        msg: Message = _multipart("mixed", [body, calendar], top=True)
    else:
        msg = body
    headers = [("Subject", _header(row.subject, "Subject")), ("From", _address(row.from_addr)),
               ("To", _address(row.to_addr))]
    if row.reply_to:
        headers.append(("Reply-To", _address(row.reply_to)))
    headers += [("Message-ID", row.message_id), ("Date", formatdate(row.created_at.timestamp(), localtime=False)),
                ("Auto-Submitted", "auto-generated")]
    for name, value in headers:
        msg[name] = value
    return msg


def send(msg: Message, row: OutboxMail) -> None:
    url = current_app.config["MAIL_URL"]
    if url == "console":
        _console(msg, row)
    elif url.startswith(("smtp://", "smtps://")):
        _smtp(msg, url)
    else:
        raise TransportError(f"unsupported MAIL_URL scheme: {url.split(':', 1)[0]}")


def _console(msg: Message, row: OutboxMail) -> None:
    folder = Path(current_app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = row.created_at.strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{row.id:06d}-{row.event}.eml"
    path.write_bytes(bytes(msg))
    if not current_app.testing:
        print(f"--- mail {row.event} to {row.to_addr} -> {path}\n{row.subject}\n\n{row.text_body}\n---",
              file=sys.stdout, flush=True)


class _Connections(threading.local):
    """One open SMTP connection per thread and MAIL_URL, kept between mails: the rq
    worker (a SimpleWorker, jobs in its own process) then pays connect, EHLO, STARTTLS
    and login once, not per mail."""

    def __init__(self) -> None:
        self.by_url: dict[str, smtplib.SMTP] = {}


_connections = _Connections()


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    timeout = float(query.get("timeout", 10))
    implicit_tls = parts.scheme == "smtps"
    port = parts.port or (465 if implicit_tls else 25)
    if implicit_tls:
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if not implicit_tls and query.get("starttls") in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def close_connections() -> None:
    """Say QUIT to every kept connection of this thread (worker shutdown, tests)."""
    for url in list(_connections.by_url):
        _close(_connections.by_url.pop(url))


def _smtp(msg: Message, url: str) -> None:
    """Send over the kept connection; one that the server closed meanwhile (idle timeout,
    restart) is replaced by a new one. A failure leaves no connection behind, and the row goes
    back to the lease protocol (retried with its Message-ID), as before."""
    client = _connections.by_url.pop(url, None)
    try:
        if client is not None:
            try:
                # One round trip that proves the kept connection alive before any of the
                # mail is said, so a send is never repeated on a fresh connection.
                if client.noop()[0] != 250:
                    raise smtplib.SMTPServerDisconnected("noop refused")
            except (OSError, smtplib.SMTPException):
                client.close()
                client = None
        if client is None:
            client = _connect(url)
        client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        if client is not None:
            client.close()
        raise TransportError(type(exc).__name__) from exc
    _connections.by_url[url] = client
