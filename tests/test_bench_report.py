"""The benchmark's own arithmetic (bench/mail.py, bench/report.py): matching mail to
bookings, booking → mail latency percentiles, keeping the hand-written parts of
docs/benchmarks.md. No benchmark runs here; the SMTP sink is exercised with one real
SMTP conversation."""
from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from bench.mail import Arrival, MailSink, match_mail
from bench.profiling import OTHER, WAITING, layer_of
from bench.report import BEGIN, END, max_load, merge_page, pool_mail


def test_match_mail_pairs_each_booking_with_its_first_mail():
    booked = {"bench-r1-1-1@example.org": 100.0, "Bench-R1-1-2@example.org": 101.0, "bench-r1-2-1@example.org": 102.0}
    arrivals = [
        Arrival(100.5, ("bench-r1-1-1@example.org",), "<a@x>"),
        Arrival(104.0, ("bench-r1-1-2@example.org",), "<b@x>"),
        Arrival(105.0, ("bench-r1-1-1@example.org",), "<a@x>"),  # the same mail again
        Arrival(99.0, ("someone-else@example.org",), "<c@x>"),  # not a booking of this round
    ]
    got = match_mail(booked, arrivals)
    assert (got["expected"], got["delivered"], got["missing"], got["duplicates"]) == (3, 2, 1, 1)
    assert got["latencies_s"] == [0.5, 3.0]
    assert got["max_s"] == 3.0 and got["last_at"] == 104.0


def test_latency_percentiles_by_nearest_rank():
    booked = {f"b{i}@example.org": 0.0 for i in range(20)}
    arrivals = [Arrival(float(i + 1), (f"b{i}@example.org",), f"<{i}@x>") for i in range(20)]
    got = match_mail(booked, arrivals)
    assert got["p50_s"] == 10.0  # the 10th of 20
    assert got["p95_s"] == 19.0  # the 19th of 20
    pooled = pool_mail([dict(got), {"expected": 1, "delivered": 0, "duplicates": 0, "latencies_s": []}])
    assert pooled["expected"] == 21 and pooled["delivered"] == 20
    assert not pooled["all_delivered"] and not pooled["p95_met"]  # one mail missing fails both
    fast = match_mail({"a@example.org": 0.0}, [Arrival(1.5, ("a@example.org",), "<a@x>")])
    assert pool_mail([fast])["all_delivered"] and pool_mail([fast])["p95_met"]


def test_merge_page_replaces_only_the_benchmark_block():
    old = f"{BEGIN}\nold figures\n{END}\n\n## Row-level security\nby hand\n"
    new = merge_page(old, f"{BEGIN}\nnew figures\n{END}")
    assert new == f"{BEGIN}\nnew figures\n{END}\n\n## Row-level security\nby hand\n"
    assert merge_page(None, "page") == "page\n"


def test_max_load_reads_the_one_minute_figure():
    assert max_load({"start": "1.50 1.00 0.50", "end": "6.25 3.00 2.00", "odd": "n/a"}) == 6.25
    assert max_load({}) is None


def test_mail_sink_records_recipients_message_id_and_arrival():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "a@example.org", "B@example.org", "x", "<m1@x>"
    msg.set_content("hello")
    with MailSink(port) as sink:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(msg)
        assert sink.wait_for({"b@example.org"}, timeout=10) < 10
        (arrival,) = sink.arrivals()
    assert arrival.rcpt_tos == ("b@example.org",) and arrival.message_id == "<m1@x>"


def test_summarize_low_keeps_the_best_sample_and_the_machines_drift_beside_it():
    from bench.report import summarize_low

    samples = [
        {"p50_ms": 2.0, "p99_ms": 9.0, "cpu_app_ms": 1.0, "cpu_db_ms": 0.0, "hello_p50_ms": 1.0, "checkpoints": 1,
         "wal_mib": 3.0, "autovacuum": 0, "settle": {"checkpoint_s": 60.0, "waited_s": 0.5}},
        {"p50_ms": 1.5, "p99_ms": 7.0, "cpu_app_ms": 1.2, "cpu_db_ms": 0.0, "hello_p50_ms": 0.5, "checkpoints": 0,
         "wal_mib": 1.0, "autovacuum": 1, "settle": {"checkpoint_s": 1.0, "waited_s": 0.0}},
    ]
    got = summarize_low(samples)
    assert got["p50_ms"] == 1.5 and got["samples_p50"] == [2.0, 1.5]
    assert got["vs_hello"] == 2.5  # the median of 2.0 and 3.0
    assert (got["checkpoints_during"], got["wal_mib_during"], got["autovacuum_during"]) == (1, 4.0, 1)
    assert (got["settle_checkpoint_s"], got["settle_wait_s"]) == (60.0, 0.5)
    assert summarize_low([{"p50_ms": 1.0, "cpu_app_ms": 1.0, "cpu_db_ms": 0.0}])["vs_hello"] is None


def test_profile_layers_count_only_real_socket_waits_as_waiting():
    site = "/x/.venv/lib/python3.11/site-packages/"
    assert layer_of(("~", 0, "<method 'recv_into' of '_socket.socket' objects>")) == WAITING
    assert layer_of(("~", 0, "<method 'poll' of 'select.epoll' objects>")) == WAITING
    assert layer_of((site + "psycopg/connection.py", 479, "wait")) == WAITING
    # Names that merely contain "select" or "poll" are work, not waiting.
    assert layer_of((site + "sqlalchemy/sql/selectable.py", 5658, "__init__")).startswith("SQLAlchemy")
    assert layer_of((site + "psycopg/_cursor_base.py", 504, "_select_current_result")).startswith("psycopg")
    assert layer_of(("/usr/lib/python3.11/json/encoder.py", 1, "encode")) == OTHER
    assert layer_of(("/work/main/app/booking/service.py", 250, "book")).startswith("Amtstermin")
