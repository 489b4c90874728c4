"""The office's queue: check-in window, tickets and quotas, the call order, what a clerk
does with the person called, retention, tenant isolation. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.due import apply_retention
from app.queue import operations as queue
from app.queue.models import QueueCall, QueueEntry
from app.transaction import commit
from tests.conftest import at, next_weekday
from tests.queue_factory import appointment, counter, office, service, switch_off, switch_on, town


@pytest.fixture
def monday():
    return next_weekday(0)


def test_an_office_switched_off_keeps_no_queue(app, monday):
    with town(app) as t:
        switch_off()
        now = at(monday, 9, 55)
        appt = appointment(at(monday, 10))
        with pytest.raises(queue.QueueError) as err:
            queue.check_in(t, appt, now)
        assert err.value.code == "no_queue"
        with pytest.raises(queue.QueueError):
            queue.draw_ticket(t, office(), service("anmeldung"), now)


def test_call_order_emergency_then_due_appointments_then_walk_ins_then_early_arrivals(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 10, 0)
        early = appointment(at(monday, 10, 10), counter_slug="schalter-1")
        due_late = appointment(at(monday, 10, 5), counter_slug="schalter-2")
        due_soon = appointment(at(monday, 9, 50), counter_slug="schalter-3")
        # Arrival order: the early appointment first, then two walk-ins, then the due ones.
        e_early = queue.check_in(t, early, now - timedelta(minutes=20))
        w1 = queue.draw_ticket(t, office(), service("anmeldung"), now - timedelta(minutes=15))
        w2 = queue.draw_ticket(t, office(), service("reisepass"), now - timedelta(minutes=10))
        e_due_late = queue.check_in(t, due_late, now - timedelta(minutes=5))
        e_due_soon = queue.check_in(t, due_soon, now - timedelta(minutes=4))
        emergency = queue.draw_ticket(t, office(), service("anmeldung"), now - timedelta(minutes=1), emergency=True)
        commit()

        order = [e.id for e in db.session.scalars(queue.in_call_order(t, office(), now))]
        # 10:05 is within the 5-minute tolerance at 10:00; 10:10 is not.
        assert order == [emergency.id, e_due_soon.id, e_due_late.id, w1.id, w2.id, e_early.id]

        called = []
        for slug in ("schalter-1", "schalter-2", "schalter-3", "schalter-4"):
            called.append(queue.call_next(t, counter(slug), now).id)
            commit()
        assert called == order[:4]


def test_tickets_are_numbered_per_office_and_day_and_a_quota_runs_out(app, monday):
    with town(app) as t:
        switch_on({"anmeldung": 2})
        now = at(monday, 9)
        a = queue.draw_ticket(t, office(), service("anmeldung"), now, name="Ali")
        b = queue.draw_ticket(t, office(), service("anmeldung"), now)
        commit()
        assert (a.ticket, b.ticket) == ("A-001", "A-002")
        assert a.name == "Ali" and b.name == ""
        with pytest.raises(queue.QueueError) as err:
            queue.draw_ticket(t, office(), service("anmeldung"), now)
        assert err.value.code == "quota_used_up"
        db.session.rollback()
        with pytest.raises(queue.QueueError) as err:  # no quota at all: no walk-ins
            queue.draw_ticket(t, office(), service("fuehrungszeugnis"), now)
        assert err.value.code == "quota_used_up"
        db.session.rollback()
        offers = {o.service.slug: o.left for o in queue.walk_in_offers(office(), monday)}
        assert offers == {"anmeldung": 0}
        # Tomorrow starts again at 1.
        c = queue.draw_ticket(t, office(), service("anmeldung"), now + timedelta(days=1))
        assert c.ticket == "A-001"


def test_check_in_opens_early_and_closes_late_by_the_tenants_rule(app, monday):
    with town(app) as t:
        switch_on()
        appt = appointment(at(monday, 10))
        other_day = appointment(at(monday + timedelta(days=1), 10))
        for moment, code in ((at(monday, 9, 29), "too_early"), (at(monday, 10, 16), "too_late")):
            with pytest.raises(queue.QueueError) as err:
                queue.check_in(t, appt, moment)
            assert err.value.code == code
        with pytest.raises(queue.QueueError) as err:
            queue.check_in(t, other_day, at(monday, 10))
        assert err.value.code == "not_today"
        entry = queue.check_in(t, appt, at(monday, 9, 30))
        commit()
        assert entry.ticket == "T-001" and appt.status == "checked_in"
        assert queue.check_in(t, appt, at(monday, 9, 40)).id == entry.id  # again: the same ticket
        assert queue.find_appointment(appt.code.lower().replace("-", "")).id == appt.id


def test_a_counter_calls_only_its_services_and_what_was_passed_to_it(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 9)
        passport = service("reisepass")
        passport.set_counters({counter("schalter-4").id})
        w_passport = queue.draw_ticket(t, office(), passport, now)
        w_id = queue.draw_ticket(t, office(), service("personalausweis"), now + timedelta(minutes=1))
        commit()
        first = queue.call_next(t, counter("schalter-1"), now)
        assert first.id == w_id.id  # Schalter 1 does not serve passports
        commit()
        queue.pass_on(t, first, counter=counter("schalter-2"), now=now)
        commit()
        assert queue.call_next(t, counter("schalter-3"), now) is None  # nothing left for Schalter 3
        assert queue.call_next(t, counter("schalter-2"), now).id == w_id.id
        assert queue.call_next(t, counter("schalter-4"), now).id == w_passport.id
        commit()


def test_finish_missed_recall_park_and_resume(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 10)
        a1 = appointment(at(monday, 10), counter_slug="schalter-1")
        a2 = appointment(at(monday, 10), counter_slug="schalter-2")
        queue.check_in(t, a1, now - timedelta(minutes=3))
        queue.check_in(t, a2, now - timedelta(minutes=2))
        walk = queue.draw_ticket(t, office(), service("anmeldung"), now - timedelta(minutes=1))
        commit()
        desk = counter("schalter-1")
        e1 = queue.call_next(t, desk, now)
        queue.recall(e1, now + timedelta(minutes=1))
        commit()
        e2 = queue.call_next(t, desk, now + timedelta(minutes=5), serving=e1.id)  # finishes e1 first
        commit()
        assert (e1.status, a1.status, e1.finished_at) == ("finished", "completed", now + timedelta(minutes=5))
        assert e1.called_at == now and e1.last_called_at == now + timedelta(minutes=1) and e1.call_count == 2
        queue.mark_missed(e2, now + timedelta(minutes=7))
        commit()
        assert (e2.status, a2.status) == ("missed", "no_show")
        e3 = queue.call_next(t, desk, now + timedelta(minutes=8))
        assert e3.id == walk.id
        queue.park(e3)
        commit()
        assert queue.call_next(t, desk, now + timedelta(minutes=9)) is None
        queue.resume(e3)
        commit()
        assert queue.call_next(t, desk, now + timedelta(minutes=10)).id == walk.id
        commit()
        assert db.session.scalar(select(func.count()).select_from(QueueCall)) == 5  # 3 calls, 1 recall, 1 again


def test_a_second_click_never_skips_the_person_being_served(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 9)
        for _ in range(2):
            queue.draw_ticket(t, office(), service("anmeldung"), now)
        commit()
        desk = counter("schalter-1")
        first = queue.call_next(t, desk, now, serving=None)
        commit()
        with pytest.raises(queue.QueueError) as err:  # the same page's button again
            queue.call_next(t, desk, now, serving=None)
        assert err.value.code == "stale"
        db.session.rollback()
        assert db.session.get(QueueEntry, first.id).status == "called"


def test_the_board_shows_tickets_and_counters_never_names(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 9)
        queue.draw_ticket(t, office(), service("anmeldung"), now, name="Ali Yilmaz")
        queue.draw_ticket(t, office(), service("anmeldung"), now, name="Berta")
        commit()
        queue.call_next(t, counter("schalter-2"), now + timedelta(minutes=1))
        commit()
        b = queue.board(t, office(), now + timedelta(minutes=2), is_open=True)
        assert b.waiting == 1
        assert b.called == [("A-001", "Schalter 2", now + timedelta(minutes=1))]
        assert b.estimated_wait_minutes >= 1
        assert "Ali" not in repr(b.called) and "Berta" not in repr(b)


def test_retention_erases_a_walk_ins_name_and_keeps_the_times(app, monday):
    with town(app) as t:
        switch_on()
        now = at(monday, 9)
        entry = queue.draw_ticket(t, office(), service("anmeldung"), now, name="Ali")
        commit()
        queue.call_next(t, counter("schalter-1"), now + timedelta(minutes=3))
        commit()
        entry_id = entry.id
        apply_retention(t, now + timedelta(days=t.settings["retention_days"] - 1))
        assert db.session.get(QueueEntry, entry_id).name == "Ali"
        apply_retention(t, now + timedelta(days=t.settings["retention_days"] + 1))
        db.session.expire_all()
        kept = db.session.get(QueueEntry, entry_id)
        assert kept.name == "" and kept.anonymized_at is not None
        assert kept.checked_in_at == now and kept.called_at == now + timedelta(minutes=3)


def test_one_towns_queue_is_invisible_to_another(app, monday):
    with town(app) as t:
        switch_on()
        queue.draw_ticket(t, office(), service("anmeldung"), at(monday, 9))
        commit()
    with town(app, "emsdetten"):
        assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0


def test_the_demo_buergerbuero_keeps_a_queue_from_its_tenant_file(app):
    with town(app) as t:
        assert queue.queue_of(office()) is not None
        offers = {o.service.slug: o.per_day for o in queue.walk_in_offers(office(), at(next_weekday(0), 9).date())}
        assert offers["anmeldung"] == 20 and "reisepass" not in offers
    with town(app, "emsdetten"):
        assert all(queue.queue_of(o) is None for o in db.session.scalars(select(queue.Office)))


def test_the_workstation_lists_and_counts_the_call_order_and_finds_the_queue_office(app, monday):
    """`queue.waiting` and `waiting_count` (the clerk's list and the office's total) follow
    `in_call_order`; `queue_office` names an office only while it keeps a queue."""
    with town(app) as t:
        switch_off()
        assert queue.queue_office("buergerbuero") is None
        switch_on()
        assert queue.queue_office("buergerbuero").id == office().id
        assert queue.queue_office("gibt-es-nicht") is None
        now = at(monday, 10, 0)
        queue.draw_ticket(t, office(), service("anmeldung"), now - timedelta(minutes=5))
        queue.check_in(t, appointment(at(monday, 9, 55), counter_slug="schalter-1"), now - timedelta(minutes=3))
        commit()
        order = [e.id for e in db.session.scalars(queue.in_call_order(t, office(), now))]
        assert [e.id for e in queue.waiting(t, office(), now)] == order and len(order) == 2
        assert queue.waiting_count(t, office(), now) == 2
        mine = queue.waiting(t, office(), now, counter("schalter-1"))
        assert [e.id for e in mine] == [e.id for e in db.session.scalars(
            queue.in_call_order(t, office(), now, counter("schalter-1")))]
        assert all(e.service is not None for e in mine)
