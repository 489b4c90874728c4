"""`Idempotency-Key` on POST, PATCH and DELETE (CONTRACT §5): a client that lost an
answer repeats the request with the same key and gets the first answer again — same
status, same code and token — and nothing changes a second time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import current_app, g, json, request
from sqlalchemy.exc import IntegrityError

from app import clock
from app.problems import ApiProblem, validation_problem
from app.extensions import db
from app.idempotency import store
from app.idempotency.models import IdempotentAnswer

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Pending:
    key: str
    fingerprint: str
    now: datetime


def idempotent(view):
    """Answer a repeat from the stored first answer; remember this request's answer."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not store.valid_key(key):
            raise validation_problem({HEADER: ["must be 1 to 255 visible ASCII characters"]})
        fp = store.fingerprint(request.method, request.path, _body())
        now = clock.now()
        store.serialize(key, g.tenant.id)
        first = _first_answer(key, fp, now)
        if first is not None:
            return first
        g.idempotency = Pending(key, fp, now)
        try:
            return view(*args, **kwargs)
        except ApiProblem as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                _remember_problem(exc)
            raise
        except IntegrityError:
            # The same key committed by a twin request in the meantime: its answer stands.
            db.session.rollback()
            first = _first_answer(key, fp, now)
            if first is None:
                raise
            return first

    return wrapper


def remember_answer(status: int, body: dict | None, headers: dict[str, str] | None = None) -> None:
    """Call before the view commits its change: with a key, the answer commits with it."""
    pending = g.get("idempotency")
    if pending is None:
        return
    text = "" if body is None else current_app.json.dumps(body)
    store.remember(pending.key, pending.fingerprint, request.method, request.path, status, text,
                   "application/json", headers or {}, pending.now)


def _first_answer(key: str, fp: str, now: datetime):
    try:
        row = store.find(key, fp, now)
    except store.KeyReused as exc:
        db.session.rollback()
        raise ApiProblem(422, "Idempotency-Key reused", "This Idempotency-Key was first sent with another "
                         "request; use a new key for a new request.", type_="idempotency-key-reused",
                         errors={HEADER: ["was first used with another method, path or body"]}) from exc
    if row is None:
        return None
    db.session.rollback()
    return _replay(row)


def _replay(row: IdempotentAnswer):
    headers = dict(json.loads(row.headers or "{}"))
    headers["Idempotent-Replayed"] = "true"
    return current_app.response_class(row.body if row.status != 204 else "", status=row.status,
                                      mimetype=row.mimetype, headers=headers)


def _remember_problem(exc: ApiProblem) -> None:
    """A 4xx answer changed nothing: kept in a transaction of its own."""
    pending: Pending = g.idempotency
    db.session.rollback()
    resp = exc.response()
    store.remember(pending.key, pending.fingerprint, request.method, request.path, exc.status,
                   resp.get_data(as_text=True), resp.mimetype,
                   {k: v for k, v in exc.headers.items()}, pending.now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _body() -> bytes:
    if request.content_length is not None and request.content_length > current_app.config["API_MAX_BODY"]:
        return b""  # the view answers 413
    return request.get_data(cache=True)
