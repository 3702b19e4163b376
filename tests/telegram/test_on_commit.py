"""The conftest's `on_commit_as_in_production`: the in-process tests depend on callbacks
running when production's commit would run them, no earlier, and never after a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

pytestmark = pytest.mark.django_db


def test_a_callback_outside_any_block_runs_at_once():
    ran = []
    transaction.on_commit(lambda: ran.append("now"))
    assert ran == ["now"]


def test_callbacks_inside_blocks_wait_for_the_outermost_to_commit():
    ran = []
    with transaction.atomic():
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("inner"))
        assert ran == []  # the inner block is only a savepoint
        transaction.on_commit(lambda: ran.append("outer"))
        assert ran == []
    assert ran == ["inner", "outer"]


def test_callbacks_of_a_rolled_back_block_never_run():
    ran = []

    class Oops(Exception):
        pass

    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("kept"))
        with pytest.raises(Oops), transaction.atomic():
            transaction.on_commit(lambda: ran.append("rolled back"))
            raise Oops
    with pytest.raises(Oops), transaction.atomic():
        transaction.on_commit(lambda: ran.append("rolled back too"))
        raise Oops
    assert ran == ["kept"]


def test_a_callback_queued_by_a_callback_runs_too():
    ran = []

    def first():
        ran.append("first")
        with transaction.atomic():
            transaction.on_commit(lambda: ran.append("second"))

    with transaction.atomic():
        transaction.on_commit(first)
    assert ran == ["first", "second"]
