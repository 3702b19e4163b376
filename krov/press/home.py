"""The press watch on an editor's home (krov.core.home): stories waiting for a look."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from krov.core.home import Item, Panel


def editor_tool(user) -> Item | None:
    if not user.has_perm("accounts.edit_bulletins"):
        return None
    return Item(_("Press watch"), reverse("press:stories"))


def editor_panel(user) -> Panel | None:
    if not user.has_perm("accounts.edit_bulletins"):
        return None
    from krov.press.models import Story

    url = reverse("press:stories")
    new = Story.objects.matched().filter(status=Story.Status.NEW).count()
    to_answer = Story.objects.matched().with_state().filter(Q(state=Story.Status.TO_ANSWER)).count()
    items = [
        Item(_("New stories in the press"), f"{url}?status=new", new),
        Item(_("Stories to answer"), f"{url}?status=to_answer", to_answer),
        Item(_("Press sources"), reverse("press:sources")),
    ]
    return Panel(key="press-editor", title=_("Press watch"), order=55, items=items)
