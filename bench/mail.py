"""The benchmark's mail server: an aiosmtpd SMTP server in a thread of the bench process
that the jobs worker delivers to (MAIL_URL=smtp://127.0.0.1:PORT). It keeps, for every
message, the moment it arrived, its envelope recipients and its Message-ID; the booking
rounds match those to their bookings (each attempt books for its own address) and work
out booking → mail latency from the appointment's `created_at`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

from bench.load import pct


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time() when the server had the whole message
    rcpt_tos: tuple[str, ...]
    message_id: str


class _Handler:
    def __init__(self, sink: "MailSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        at = time.time()
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content or b"")
        self.sink.add(Arrival(at, tuple(a.lower() for a in envelope.rcpt_tos), (headers["Message-ID"] or "").strip()))
        return "250 Message accepted for delivery"


class MailSink:
    """`with MailSink() as sink:` … `sink.port`, `sink.arrivals()`."""

    def __init__(self, port: int):
        self.port = port
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self._by_rcpt: set[str] = set()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port, ready_timeout=10)

    def start(self) -> "MailSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        try:
            self.controller.stop()
        except (AssertionError, RuntimeError):  # never started, or stopped already
            pass

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add(self, arrival: Arrival) -> None:
        with self._lock:
            self._arrivals.append(arrival)
            self._by_rcpt.update(arrival.rcpt_tos)

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def count(self) -> int:
        with self._lock:
            return len(self._arrivals)

    def wait_for(self, addresses: set[str], timeout: float, poll: float = 0.2) -> float:
        """Wait until a mail to every address arrived, or `timeout` seconds; returns the seconds waited."""
        t0 = time.monotonic()
        want = {a.lower() for a in addresses}
        while time.monotonic() - t0 < timeout:
            with self._lock:
                if want <= self._by_rcpt:
                    break
            time.sleep(poll)
        return time.monotonic() - t0


def match_mail(booked: dict[str, float], arrivals: list[Arrival]) -> dict:
    """Which bookings got their mail, and how long after the booking it arrived.

    `booked` maps each booking's e-mail address to the moment (epoch seconds) its
    appointment was created; every address books once, so its first mail is the
    confirmation. Mails to other addresses are ignored; a second mail to a booked address
    counts as a duplicate. Latency percentiles by nearest rank, in seconds."""
    want = {a.lower(): t for a, t in booked.items()}
    first: dict[str, float] = {}
    duplicates = 0
    for arr in sorted(arrivals, key=lambda a: a.at):
        for rcpt in arr.rcpt_tos:
            rcpt = rcpt.lower()
            if rcpt not in want:
                continue
            if rcpt in first:
                duplicates += 1
            else:
                first[rcpt] = arr.at
    latencies = sorted(first[a] - want[a] for a in first)
    return {
        "expected": len(want), "delivered": len(first), "missing": len(want) - len(first),
        "duplicates": duplicates, "latencies_s": latencies,
        "p50_s": pct(latencies, 50), "p95_s": pct(latencies, 95), "max_s": latencies[-1] if latencies else 0.0,
        "last_at": max(first.values()) if first else None,
    }
