"""Following rows through a transaction: the one place that listens to the session for what
changed, for everything that reacts to changes whichever code path made them (booking's
appointment events for webhooks and metrics, the statistics' deltas).

`follow(Model, attrs)` names the attributes a subscriber reads. Their old value is loaded
when one is set (active history), so the state before a change is known even for an
attribute that was expired when it was set. A subscriber gets `Change(obj, before, after)`,
each state a dict of the followed attributes, `before` None for a new row:

- `on_flush(handler)`: `handler(session, changes)` after every flush, for that flush's
  changes, on the flush's connection (so what it writes commits or rolls back with them);
- `on_commit(before_commit=, after_commit=)`: once per transaction, each row's state when
  the transaction first changed it against its state at the commit. `before_commit(session,
  changes)` runs inside the transaction, `after_commit(session)` once it stands;
- `on_end(handler)`: `handler(session)` when a transaction or savepoint ends either way,
  to drop what a subscriber kept in `session.info` for it.

A savepoint belongs to its transaction: nothing is reported when it commits. Bulk UPDATE
statements are not seen (no flush carries them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

FOLLOWED: dict[type, tuple[str, ...]] = {}
_FIRST = "changes_first_seen"

_on_flush: list[Callable] = []
_before_commit: list[Callable] = []
_after_commit: list[Callable] = []
_on_end: list[Callable] = []


@dataclass(frozen=True)
class Change:
    obj: object
    before: dict | None
    after: dict


def follow(model: type, attrs: tuple[str, ...]) -> None:
    known = FOLLOWED.get(model, ())
    added = tuple(a for a in attrs if a not in known)
    FOLLOWED[model] = known + added
    for attr in added:
        event.listen(getattr(model, attr), "set", _load_old_value, active_history=True)


def _load_old_value(*args) -> None:
    """Nothing to do: being listened to with active_history is what loads the old value."""


def _add(handlers: list, handler) -> None:
    if handler is not None and handler not in handlers:
        handlers.append(handler)


def on_flush(handler) -> None:
    _add(_on_flush, handler)


def on_commit(*, before_commit=None, after_commit=None) -> None:
    _add(_before_commit, before_commit)
    _add(_after_commit, after_commit)


def on_end(handler) -> None:
    _add(_on_end, handler)


def _attrs_of(obj) -> tuple[str, ...] | None:
    return next((attrs for model, attrs in FOLLOWED.items() if isinstance(obj, model)), None)


def state_now(obj) -> dict:
    return {a: getattr(obj, a) for a in _attrs_of(obj)}


def state_before_flush(obj) -> dict:
    """The followed attributes as they were before the pending flush (None where one is set
    for the first time)."""
    state = inspect(obj)
    old = {}
    for a in _attrs_of(obj):
        hist = state.attrs[a].history
        if hist.deleted:
            old[a] = hist.deleted[0]
        elif hist.added:
            old[a] = None
        else:
            old[a] = getattr(obj, a)
    return old


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, flush_context) -> None:
    changes = []
    first = session.info.setdefault(_FIRST, {})
    for obj in list(session.new) + list(session.dirty):
        if _attrs_of(obj) is None:
            continue
        new = obj in session.new
        if not new and not session.is_modified(obj, include_collections=False):
            continue
        before = None if new else state_before_flush(obj)
        first.setdefault(id(obj), (obj, before))
        changes.append(Change(obj, before, state_now(obj)))
    if not changes:
        return
    for handler in _on_flush:
        handler(session, changes)


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # what is still pending, so every change is seen and new rows have ids
    first = session.info.pop(_FIRST, {})
    changes = [Change(obj, before, state_now(obj)) for obj, before in first.values()]
    if changes:
        for handler in _before_commit:
            handler(session, changes)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    _ended(session, committed=True)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    _ended(session, committed=False)


def _ended(session: Session, *, committed: bool) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_FIRST, None)
        for handler in _after_commit if committed else ():
            handler(session)
    for handler in _on_end:
        handler(session)
