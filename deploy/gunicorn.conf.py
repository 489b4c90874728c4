"""gunicorn settings for Amtstermin: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Metrics in multiprocess mode: every worker writes its counters to files in
PROMETHEUS_MULTIPROC_DIR, a scrape of any worker sums them all. The directory is emptied
when the server starts (stale counts of an earlier run would be added otherwise), and a
dead worker's live gauges are dropped. Everything here can be overridden on the command
line (`-w 8`, `-b 127.0.0.1:8001`) or by GUNICORN_CMD_ARGS.
"""
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threads: a waiting room's screen long-polls for up to 20 s and must not hold a whole worker.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
accesslog = None  # the app logs each request as a JSON line (route, status, duration), never a path
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Set before the app (and prometheus_client) is imported by any worker.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "amtstermin-metrics"))


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
