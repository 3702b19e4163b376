from __future__ import annotations

from django.urls import path

from krov.aid import views

app_name = "aid"

urlpatterns = [
    # Requesters: no account; the secret link is the key.
    path("help/", views.request_help, name="request"),
    path("help/c/<str:token>/", views.requester_case, name="requester_case"),
    path("help/c/<str:token>/messages/", views.requester_messages, name="requester_messages"),
    path("help/c/<str:token>/forget/", views.requester_forget, name="requester_forget"),
    path(
        "help/c/<str:token>/emails/stop/",
        views.requester_stop_emails,
        name="requester_stop_emails",
    ),
    # Volunteers.
    path("aid/", views.console, name="console"),
    path("aid/profile/", views.profile, name="profile"),
    path("aid/shift/", views.shift, name="shift"),
    path(
        "aid/offers/<uuid:public_id>/accept/",
        views.answer_offer,
        {"answer": "accept"},
        name="accept_offer",
    ),
    path(
        "aid/offers/<uuid:public_id>/decline/",
        views.answer_offer,
        {"answer": "decline"},
        name="decline_offer",
    ),
    path("aid/cases/<uuid:public_id>/", views.case_detail, name="case"),
    path("aid/cases/<uuid:public_id>/messages/", views.case_messages, name="case_messages"),
    path("aid/cases/<uuid:public_id>/attachment/", views.case_attachment, name="case_attachment"),
    path("aid/cases/<uuid:public_id>/keys/", views.case_keys, name="case_keys"),
    path("aid/cases/<uuid:public_id>/reply/", views.case_reply, name="case_reply"),
    path("aid/cases/<uuid:public_id>/note/", views.case_note, name="case_note"),
    path("aid/cases/<uuid:public_id>/hand-over/", views.case_handover, name="case_handover"),
    path("aid/cases/<uuid:public_id>/close/", views.case_close, name="case_close"),
    # Coordinators.
    path("aid/triage/", views.triage_queue, name="triage"),
    path("aid/cases/<uuid:public_id>/triage/", views.case_triage, name="case_triage"),
    path("aid/cases/<uuid:public_id>/offer/", views.case_offer, name="case_offer"),
    path("aid/cases/<uuid:public_id>/assign/", views.case_assign, name="case_assign"),
    path("aid/cases/<uuid:public_id>/spam/", views.case_spam, name="case_spam"),
    path("aid/cases/<uuid:public_id>/merge/", views.case_merge, name="case_merge"),
    path("aid/dashboard/", views.dashboard, name="dashboard"),
    # Keys of sealed cases (made and opened in the browser).
    path("aid/keys/", views.keys_page, name="keys"),
    path("aid/keys/mine/", views.keys_mine, name="keys_mine"),
    path("aid/keys/reader/", views.keys_reader, name="keys_reader"),
    path("aid/keys/team/", views.keys_team, name="keys_team"),
    path("aid/keys/team/grants/", views.keys_team_grants, name="keys_team_grants"),
    path("aid/keys/team/rotate/", views.keys_team_rotate, name="keys_team_rotate"),
    path("aid/keys/cases/grants/", views.keys_case_grants, name="keys_case_grants"),
    path("aid/keys/relays/", views.keys_relays, name="keys_relays"),
    path(
        "aid/keys/custodians/<uuid:public_id>/revoke/",
        views.keys_custodian_revoke,
        name="keys_custodian_revoke",
    ),
    path("aid/volunteers/", views.volunteers, name="volunteers"),
    path("aid/catalogue/", views.catalogue, name="catalogue"),
    path("aid/volunteers/<uuid:public_id>/trust/", views.volunteer_trust, name="volunteer_trust"),
]
