"""Sending a built message: to the console and instance/mail/, or over SMTP (MAIL_URL)."""
from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from app.mail import qr
from app.mail.models import OutboxMail


class TransportError(Exception):
    pass


def build_message(row: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = row.from_addr
    msg["To"] = row.to_addr
    if row.reply_to:
        msg["Reply-To"] = row.reply_to
    msg["Message-ID"] = row.message_id
    msg["Date"] = formatdate(row.created_at.timestamp(), localtime=False)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    payload = qr.payload_of(row.html_body)
    if payload:  # the check-in QR code, shown inside the HTML part
        msg.get_payload()[1].add_related(qr.png(payload), maintype="image", subtype="png", cid=f"<{qr.CID}>",
                                         filename="checkin-qr.png")
    if row.ics:
        method = "CANCEL" if "METHOD:CANCEL" in row.ics else "PUBLISH"
        msg.add_attachment(row.ics.encode(), maintype="text", subtype="calendar", filename="termin.ics",
                           params={"method": method, "charset": "utf-8"})
    return msg


def send(msg: EmailMessage, row: OutboxMail) -> None:
    url = current_app.config["MAIL_URL"]
    if url == "console":
        _console(msg, row)
    elif url.startswith(("smtp://", "smtps://")):
        _smtp(msg, url)
    else:
        raise TransportError(f"unsupported MAIL_URL scheme: {url.split(':', 1)[0]}")


def _console(msg: EmailMessage, row: OutboxMail) -> None:
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


def _smtp(msg: EmailMessage, url: str) -> None:
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
