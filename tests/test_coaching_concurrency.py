"""Twenty participants choose the same coach slot at the same moment, on PostgreSQL with real
threads: exactly one gets it, the others see the remaining slots with a clear message."""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registrations.coaching.models import Coach, CoachSlot
from tests.conftest import make_edition, make_registration

PEOPLE = 20


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_people_booking_the_same_slot_at_once_give_it_to_exactly_one(postgres):
    start = timezone.localdate() + datetime.timedelta(days=60)
    edition = make_edition(start_date=start, end_date=start + datetime.timedelta(days=2))
    coach = Coach.objects.create(name="Marieke Smit")
    slots = [
        CoachSlot.objects.create(
            edition=edition,
            coach=coach,
            day=start,
            start=datetime.time(9 + n, 0),
            end=datetime.time(9 + n, 45),
            room=f"Zaal {n}",
        )
        for n in range(3)
    ]
    wanted = slots[0]
    people = [make_registration(edition, email=f"p{n}@example.nl") for n in range(PEOPLE)]
    barrier = threading.Barrier(PEOPLE)
    answers = [None] * PEOPLE

    def book(number):
        barrier.wait()
        try:
            response = Client().post(
                reverse("coaching:book", args=[people[number].token]), {"slot": wanted.pk}
            )
            answers[number] = (response.status_code, response.content.decode())
        except Exception as error:  # counted below
            answers[number] = (repr(error), "")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(n,)) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    codes = Counter(code for code, _ in answers)
    assert codes[302] == 1
    assert codes[302] + codes[409] + codes[400] == PEOPLE, codes
    wanted.refresh_from_db()
    winner = next(p for p, (code, _) in zip(people, answers, strict=True) if code == 302)
    assert wanted.registration == winner
    assert CoachSlot.objects.filter(registration__isnull=False).count() == 1
    for code, html in answers:
        if code != 302:
            # Why not, and the slots that are still free to choose from.
            assert ("Iemand anders was je net voor" in html) or ("niet (meer) vrij" in html)
            assert "Zaal 1" in html and "Zaal 2" in html
