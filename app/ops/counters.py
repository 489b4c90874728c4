"""The process's counters, importable from anywhere (they import nothing of the app):
the mail delivery and the job runner count their failures here."""
from prometheus_client import Counter, Histogram

REQUESTS = Counter("amtstermin_http_requests_total", "HTTP requests answered, by route rule and status",
                   ["route", "method", "status"])
LATENCY = Histogram("amtstermin_http_request_duration_seconds", "Time to answer a request, by route rule",
                    ["route", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BOOKINGS = Counter("amtstermin_bookings_total", "Appointments booked (committed), by tenant and source",
                   ["tenant", "source"])
CANCELLATIONS = Counter("amtstermin_cancellations_total", "Appointments cancelled (committed), by tenant and source",
                        ["tenant", "source"])
APPOINTMENT_EVENTS = Counter("amtstermin_appointment_events_total", "Appointment events, by tenant and event",
                             ["tenant", "event"])
JOB_FAILURES = Counter("amtstermin_job_failures_total", "Background jobs and deliveries that failed, by job",
                       ["job"])
LOCK_TIMEOUTS = Counter("amtstermin_lock_timeouts_total", "Database statements that gave up waiting for a lock")
UNAVAILABLE = Counter("amtstermin_unavailable_total", "Requests answered 503 (a dependency down or too slow), by route",
                      ["route"])


def job_failed(job: str) -> None:
    JOB_FAILURES.labels(job=job).inc()
