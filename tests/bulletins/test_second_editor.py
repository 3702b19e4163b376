"""No editor publishes words of their own without a second editor: not by rewriting a post
in review, not by editing a published one."""

from __future__ import annotations

import pytest

from krov.accounts import services as account_services
from krov.bulletins import services
from krov.bulletins.models import Post, PostRevision

pytestmark = pytest.mark.django_db


@pytest.fixture
def third_editor(db):
    return account_services.create_account(
        email="editor3@example.org", pseudonym="Pero3", password=None, roles=["editor"]
    )


def public_title(post: Post, language: str = "en") -> str:
    return Post.objects.get(pk=post.pk).versions.get(language=language).title


def test_rewriting_a_post_in_review_and_approving_it_yourself_is_refused(
    editor, second_editor, settings
):
    settings.KROV_BULLETINS_SELF_APPROVAL = False
    post = services.create_post(actor=editor, language="en", title="Honest", body="Facts.")
    services.submit(post, actor=editor)
    services.write(post, actor=second_editor, language="en", title="Rewritten", body="Spin.")
    post.refresh_from_db()
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve(post, actor=second_editor)
    assert not Post.objects.get(pk=post.pk).is_visible


def test_rewritten_post_in_review_needs_someone_who_wrote_none_of_it(
    editor, second_editor, third_editor, settings
):
    settings.KROV_BULLETINS_SELF_APPROVAL = False
    post = services.create_post(actor=editor, language="en", title="Honest", body="Facts.")
    services.submit(post, actor=editor)
    services.write(post, actor=second_editor, language="en", title="Better", body="Facts!")
    post.refresh_from_db()
    services.approve(post, actor=third_editor)
    assert public_title(post) == "Better"


def test_an_edit_to_a_published_post_waits_for_a_second_editor(
    editor, second_editor, settings, client, django_capture_on_commit_callbacks
):
    settings.KROV_BULLETINS_SELF_APPROVAL = False
    post = services.create_post(actor=editor, language="en", title="Honest", body="Facts.")
    services.submit(post, actor=editor)
    services.approve(post, actor=second_editor)
    post.refresh_from_db()

    services.write(post, actor=second_editor, language="en", title="Spin", body="Lies.")
    assert public_title(post) == "Honest"
    page = client.get(f"/en/bulletins/{post.slug}/")
    assert b"Honest" in page.content and b"Lies." not in page.content
    with pytest.raises(services.BulletinError, match="second editor"):
        services.approve_edit(post, actor=second_editor)
    assert public_title(post) == "Honest"

    with django_capture_on_commit_callbacks(execute=True):  # the page cache is cleared then
        services.approve_edit(post, actor=editor)  # someone other than the last writer
    assert public_title(post) == "Spin"
    assert not PostRevision.objects.filter(post=post).exists()
    page = client.get(f"/en/bulletins/{post.slug}/")
    assert b"Lies." in page.content


def test_a_published_serbian_edit_waits_in_both_scripts(publish, editor, second_editor):
    post = publish()
    services.write(post, actor=editor, language="sr-latn", title="Novi naslov", body="Tekst.")
    assert public_title(post, "sr") == "Ратни злочини и истина"
    assert set(services.pending_edit(post)) == {"sr", "sr-latn"}
    services.approve_edit(post, actor=second_editor)
    assert public_title(post, "sr") == "Нови наслов"


def test_discarding_an_edit_keeps_the_published_text(publish, editor):
    post = publish()
    services.write(post, actor=editor, language="sr-latn", title="Drugačije", body="Tekst.")
    services.discard_edit(post, actor=editor)
    assert public_title(post, "sr-latn") == "Ratni zločini i istina"
    assert not services.pending_edit(post)


def test_the_newsroom_page_shows_the_pending_edit_and_approves_it(
    publish, editor, second_editor, login_as, personas
):
    post = publish()
    client = login_as(personas["editor"])
    client.post(
        f"/en/bulletins/editor/{post.slug}/",
        {"language": "en", "title": "An English title", "summary": "", "body": "Text", "tags": ""},
    )
    page = client.get(f"/en/bulletins/editor/{post.slug}/?lang=en")
    assert page.context["pending"] and not page.context["can_approve_edit"]
    assert client.post(f"/en/bulletins/editor/{post.slug}/approve-edit/").status_code == 302
    assert not Post.objects.get(pk=post.pk).versions.filter(language="en").exists()

    from django.test import Client

    other = Client()
    other.force_login(second_editor, backend="krov.accounts.backends.KrovBackend")
    page = other.get(f"/en/bulletins/editor/{post.slug}/?lang=en")
    assert page.context["can_approve_edit"]
    other.post(f"/en/bulletins/editor/{post.slug}/approve-edit/", {"seen": page.context["seen"]})
    assert public_title(post) == "An English title"


def test_an_approval_covers_only_the_text_the_approver_read(
    editor, second_editor, settings, login_as, personas
):
    """The author changes the post after the second editor opened it: approving the page
    they read does not publish the new words."""
    from django.test import Client

    settings.KROV_BULLETINS_SELF_APPROVAL = False
    post = services.create_post(actor=editor, language="en", title="Honest", body="Facts.")
    services.submit(post, actor=editor)
    approver = Client()
    approver.force_login(second_editor, backend="krov.accounts.backends.KrovBackend")
    seen = approver.get(f"/en/bulletins/editor/{post.slug}/").context["seen"]
    services.write(post, actor=editor, language="en", title="Honest", body="Spin.")
    response = approver.post(
        f"/en/bulletins/editor/{post.slug}/approve/", {"publish_at": "", "seen": seen}, follow=True
    )
    assert "changed since you opened it" in response.content.decode()
    assert not Post.objects.get(pk=post.pk).is_visible
    with pytest.raises(services.BulletinError):
        services.approve(post, actor=second_editor, seen="")
