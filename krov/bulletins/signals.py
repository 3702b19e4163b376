"""Files follow their rows: when a bulletin, its recording or a recording waiting for
approval is deleted — by a service, a cascade from the bulletin, the shell or any admin —
its stored files are deleted once that deletion commits, never before (a rollback keeps
the row and its files). Connected in krov.bulletins.apps."""

from __future__ import annotations

from django.db.models.signals import post_delete

from krov.bulletins.models import PendingRecording, Post, Recording, RecordingFiles

# The folder of bulletin covers (krov.bulletins.services.set_cover): nothing else is deleted.
COVER_PREFIX = "bulletins/"


def _recording_deleted(sender, instance: RecordingFiles, **kwargs) -> None:
    from krov.bulletins import services

    # A recording waiting for approval that was approved hands its files to the recording
    # first (its names are blanked): nothing of it is deleted then.
    services.delete_files_on_commit([instance.original, instance.opus, instance.mp3])


def _post_deleted(sender, instance: Post, **kwargs) -> None:
    from krov.core import images

    if instance.cover and instance.cover.startswith(COVER_PREFIX):
        images.delete_after_commit(instance.cover)


def connect() -> None:
    for model in (Recording, PendingRecording):
        post_delete.connect(
            _recording_deleted, sender=model, dispatch_uid=f"bulletins-files-{model.__name__}"
        )
    post_delete.connect(_post_deleted, sender=Post, dispatch_uid="bulletins-files-post")
