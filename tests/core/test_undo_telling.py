from __future__ import annotations

import pytest

from krov.core import undo
from krov.directory.models import Proposal


@pytest.mark.django_db(transaction=True)
def test_telling_outside_a_transaction_is_refused_so_a_claim_cannot_outlive_a_failed_send():
    with pytest.raises(RuntimeError, match="transaction"):
        undo.tell_due(
            Proposal.objects.all(), told="told_at", done_at="reviewed_at", tell=lambda _: 1
        )
