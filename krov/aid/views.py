"""Thin views over krov.aid.services. Every page that shows case data sends no-store."""

from __future__ import annotations

import json
from functools import wraps
from typing import cast

from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.aid import forms, matching, services, stats
from krov.aid.models import (
    AID_LANGUAGES,
    CannedReply,
    HelpRequest,
    Offer,
    Skill,
    VolunteerProfile,
)
from krov.aid.services.custodians import PROOF_HEADER as CUSTODIAN_PROOF_HEADER
from krov.core import inputs, undo
from krov.core.access import public, requires, token
from krov.core.clientip import client_address

ANSWER = "accounts.answer_help_requests"
TRIAGE = "accounts.triage_help_requests"


def no_store(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- requester ------------------------------------------------------------------------------


@public
@sensitive_post_parameters("description", "region", "email")
@require_http_methods(["GET", "POST"])
@no_store
def request_help(request: HttpRequest) -> HttpResponse:
    language = services.serving_language(get_language())
    form = forms.HelpRequestForm(
        request.POST if request.method == "POST" else None,
        language=language,
        offer_email=services.email_offered(),
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("website"):
            # A bot filled the invisible field. Answer as if all went well; store nothing.
            return render(request, "aid/request_received_bot.html", status=200)
        if form.is_valid():
            data = form.cleaned_data
            skill = services.requested_skill(data["skill"])
            if not services.intake_allowed(client_address(request)):
                form.add_error(
                    None,
                    _(
                        "Too many requests from your connection in the last hour. Please wait "
                        "and try again, or write to us on Telegram."
                    ),
                )
                status = 429
            elif skill is None:
                form.add_error("skill", _("Please choose a kind of help."))
                status = 400
            else:
                try:
                    submitted = services.submit_request(
                        channel=HelpRequest.Channel.WEB,
                        language=data["language"],
                        skill=skill,
                        description=data["description"],
                        urgency=data["urgency"],
                        region=data["region"],
                        submission_key=data["submission_key"],
                        email=data.get("email", ""),
                    )
                except services.EmailRefused as error:
                    form.add_error("email", str(error))
                    status = 400
                except services.AidError as error:
                    form.add_error(None, str(error))
                    status = 400
                else:
                    url = reverse("aid:requester_case", args=[submitted.token])
                    return redirect(url + "?new=1")
        else:
            status = 400
    return render(
        request,
        "aid/request_form.html",
        {
            "form": form,
            **services.intake_terms(),
        },
        status=status,
    )


def _requester_case(token: str) -> HelpRequest:
    case = services.case_for_token(token)
    if case is None:
        raise Http404
    return case


def _requester_context(request: HttpRequest, case: HelpRequest, token: str) -> dict:
    # A sealed conversation is opened in the requester's browser; `?open=server` (the link
    # the page offers without JavaScript) has the server open it for this one request.
    open_here = not case.is_sealed or request.GET.get("open") == "server"
    return {
        "case": case,
        "token": token,
        "open_here": open_here,
        "conversation": services.requester_conversation(case, token, open_here=open_here),
        "request_text": services.requester_request_text(case, token, open_here=open_here),
        "wants_email": services.requester_wants_email(case),
        "form": forms.MessageForm(),
    }


@public
@sensitive_post_parameters("body")
@require_http_methods(["GET", "POST"])
@no_store
def requester_case(request: HttpRequest, token: str) -> HttpResponse:
    case = _requester_case(token)
    context = _requester_context(request, case, token)
    status = 200
    if request.method == "POST":
        form = forms.MessageForm(request.POST)
        context["form"] = form
        if form.is_valid():
            try:
                services.post_requester_message(case, body=form.cleaned_data["body"])
            except services.CaseClosed as error:
                context["closed_notice"] = str(error)
                status = 409
            except services.AidError as error:
                form.add_error(None, str(error))
                status = 429 if isinstance(error, services.RateLimited) else 400
            else:
                return redirect(reverse("aid:requester_case", args=[token]))
        else:
            status = 400
    services.mark_seen_by_requester(case)
    services.requester_visited(case, token)
    context["new"] = request.GET.get("new") == "1"
    context["link"] = request.build_absolute_uri(reverse("aid:requester_case", args=[token]))
    return render(request, "aid/requester_case.html", context, status=status)


@public
@require_safe
@no_store
def requester_messages(request: HttpRequest, token: str) -> HttpResponse:
    case = _requester_case(token)
    services.mark_seen_by_requester(case)
    services.requester_visited(case, token)
    return render(
        request,
        "aid/partials/_requester_conversation.html",
        _requester_context(request, case, token),
    )


@public
@require_POST
@no_store
def requester_stop_emails(request: HttpRequest, token: str) -> HttpResponse:
    case = _requester_case(token)
    services.stop_requester_emails(case)
    messages.success(request, _("Krov will not email you any more. Your address is deleted."))
    return redirect(reverse("aid:requester_case", args=[token]))


@public
@require_POST
@no_store
def requester_forget(request: HttpRequest, token: str) -> HttpResponse:
    case = _requester_case(token)
    if not inputs.confirmed(request):
        messages.error(request, _("Please tick the box to confirm the deletion."))
        return redirect(reverse("aid:requester_case", args=[token]))
    services.forget(case)
    return render(request, "aid/forgotten.html")


# --- volunteer ------------------------------------------------------------------------------


@requires(ANSWER)
@require_safe
@no_store
def console(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    profile = services.ensure_profile(user)
    offers = (
        Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING)
        .select_related("request", "request__skill")
        .order_by("expires_at")[:50]
    )
    cases = (
        HelpRequest.objects.filter(assignee=profile)
        .open()
        .select_related("skill")
        .order_by("-last_activity_at")[:50]
    )
    current_shift = services.current_shift(profile)
    context = {
        "profile": profile,
        "offers": offers,
        "cases": cases,
        "current_shift": current_shift,
        "shift_form": forms.ShiftForm(),
    }
    return render(request, "aid/console.html", context)


@requires(ANSWER)
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    volunteer = services.ensure_profile(user)
    skills = list(Skill.objects.filter(active=True))
    levels = {vs.skill_id: vs.level for vs in volunteer.skills.all()}
    initial = {
        "languages": volunteer.languages,
        "max_cases": volunteer.max_cases,
        "time_zone": volunteer.time_zone,
        "paused": volunteer.paused,
        **{f"skill_{pk}": level for pk, level in levels.items()},
    }
    form = forms.ProfileForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        skills=skills,
        windows=volunteer.windows.order_by("weekday", "start"),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            services.update_profile(
                volunteer,
                actor=user,
                languages=data["languages"],
                max_cases=data["max_cases"],
                time_zone=data["time_zone"],
                paused=data["paused"],
                skills=form.skills(),
                windows=data["windows"],
            )
            messages.success(request, _("Your volunteer profile is saved."))
            return redirect("aid:profile")
        status = 400
    return render(request, "aid/profile.html", {"form": form, "profile": volunteer}, status=status)


@requires(ANSWER)
@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    volunteer = services.ensure_profile(user)
    if request.POST.get("end"):
        services.end_shift(volunteer, actor=user)
        messages.success(request, _("Your shift has ended."))
        return redirect("aid:console")
    form = forms.ShiftForm(request.POST)
    if form.is_valid():
        services.start_shift(volunteer, actor=user, hours=form.cleaned_data["hours"])
        messages.success(request, _("You are on shift. Thank you."))
    else:
        messages.error(request, _("A shift lasts between 1 and 12 hours."))
    return redirect("aid:console")


@requires(ANSWER)
@require_POST
def answer_offer(request: HttpRequest, public_id, answer: str) -> HttpResponse:
    user = _user(request)
    offer = Offer.objects.filter(public_id=public_id).select_related("request").first()
    volunteer = services.profile_of(user)
    if offer is None or volunteer is None or offer.volunteer_id != volunteer.pk:
        raise Http404
    try:
        if answer == "accept":
            case = services.accept_offer(offer, actor=user)
            messages.success(request, _("The case is yours. Thank you."))
            return redirect("aid:case", public_id=case.public_id)
        services.decline_offer(offer, actor=user)
        messages.info(request, _("Declined. The request goes to the next volunteer."))
    except services.AidError as error:
        messages.error(request, str(error))
        return redirect("aid:console")
    return redirect("aid:console")


def _case_or_404(request: HttpRequest, public_id) -> HelpRequest:
    case = services.get_case_for_user(request.user, public_id)
    if case is None:
        raise Http404
    return case


def _case_context(request: HttpRequest, case: HelpRequest) -> dict:
    user = _user(request)
    coordinator = services.is_coordinator(user)
    context = {
        "case": case,
        "conversation": case.messages.select_related("author").all(),
        "notes": case.notes.select_related("author").all(),
        "can_write": services.can_write_case(user, case),
        "coordinator": coordinator,
        "reply_form": forms.MessageForm(),
        "note_form": forms.NoteForm(),
        "close_form": forms.CloseForm(),
        "handover_form": forms.HandOverForm(),
        "canned": CannedReply.objects.filter(language=case.language),
    }
    if case.is_sealed:
        context["sealed_keys"] = {
            "case": str(case.public_id),
            "offered": not services.can_write_case(user, case) and not coordinator,
            **(
                services.wrapped_case_key_for(user, case)
                or {"case_key": "", "team_key": "", "team_public": ""}
            ),
        }
    volunteer = services.profile_of(user)
    if volunteer is not None:
        context["my_offer"] = case.offers.filter(
            volunteer=volunteer, status=Offer.Status.PENDING
        ).first()
    if coordinator:
        context.update(
            {
                **_matches(case),
                "offers": case.offers.select_related("volunteer__user").all(),
                "access_log": services.access_log(case),
                "triage_form": forms.TriageForm(
                    initial={
                        "skill": case.skill_id,
                        "urgency": case.urgency,
                        "sensitivity": case.sensitivity,
                    }
                ),
                "merge_form": forms.MergeForm(),
            }
        )
    return context


@requires(ANSWER)
@require_safe
@no_store
def case_detail(request: HttpRequest, public_id) -> HttpResponse:
    case = _case_or_404(request, public_id)
    return render(request, "aid/case.html", _case_context(request, case))


@requires(ANSWER)
@require_http_methods(["GET", "POST"])
@no_store
def case_keys(request: HttpRequest, public_id) -> HttpResponse:
    """GET: the wrapped keys this reader's browser opens the case with, once they are shared
    (a volunteer's page asks again until a coordinator's browser has shared them). POST: the
    browser could not open its copy; it goes and is shared again."""
    case = services.get_case_for_user(request.user, public_id, audited=False)
    if case is None:
        raise Http404
    if request.method == "POST":
        services.report_unopenable_case_key(case, _user(request))
    keys = services.wrapped_case_key_for(_user(request), case) or {}
    return JsonResponse({"case": str(case.public_id), **keys})


@requires(ANSWER)
@require_safe
@no_store
def case_messages(request: HttpRequest, public_id) -> HttpResponse:
    # Polling re-reads the conversation; the audit entry was written when the page opened.
    case = services.get_case_for_user(request.user, public_id, audited=False)
    if case is None:
        raise Http404
    return render(
        request,
        "aid/partials/_conversation.html",
        {"case": case, "conversation": case.messages.all(), "viewer": "desk"},
    )


@requires(ANSWER)
@require_POST
@no_store
def case_attachment(request: HttpRequest, public_id) -> HttpResponse:
    """A file a requester sent: the reader's browser opened its sealed reference and posts
    it (`ref`); the file comes from the channel into memory for this response only."""
    user = _user(request)
    case = services.get_case_for_user(user, public_id, audited=False)
    if case is None or not services.may_see_files(user, case):
        raise Http404
    try:
        content, content_type = services.fetch_attachment(
            case, actor=user, ref=request.POST.get("ref", "")
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        "inline" if content_type.startswith("image/") else "attachment"
    )
    return response


def _matches(case: HelpRequest) -> dict:
    """The best matches, and apart from them those who share no language with the
    requester (never presented as a best match)."""
    ranked = matching.rank(case, limit=8) if case.is_open and not case.assignee_id else []
    return {
        "matches": [match for match in ranked if match.shared_language][:5],
        "without_language": [match for match in ranked if not match.shared_language][:3],
        "case_language": AID_LANGUAGES.get(case.language, case.language),
    }


def _case_action(view):
    """POST on a case: 404 unless the user may see it; domain errors become messages."""

    @wraps(view)
    def wrapper(request: HttpRequest, public_id) -> HttpResponse:
        case = _case_or_404(request, public_id)
        try:
            result = view(request, case)
        except services.AidError as error:
            if getattr(request, "htmx", False):
                return HttpResponse(str(error), status=409)
            messages.error(request, str(error))
            result = None
        return result or redirect("aid:case", public_id=case.public_id)

    return wrapper


@requires(ANSWER)
@sensitive_post_parameters("body")
@require_POST
@no_store
@_case_action
def case_reply(request: HttpRequest, case: HelpRequest):
    form = forms.MessageForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(error) for error in form.errors.get("body", []))
        raise services.AidError(errors or _("Please write something."))
    services.post_reply(case, actor=_user(request), body=form.cleaned_data["body"])
    if getattr(request, "htmx", False):
        return render(
            request,
            "aid/partials/_conversation.html",
            {"case": case, "conversation": case.messages.all(), "viewer": "desk"},
        )
    return None


@requires(ANSWER)
@sensitive_post_parameters("body")
@require_POST
@_case_action
def case_note(request: HttpRequest, case: HelpRequest):
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        raise services.AidError(_("Please write the note (and keep it short enough)."))
    services.add_note(
        case,
        actor=_user(request),
        body=form.cleaned_data["body"],
        question=form.cleaned_data["question"],
    )
    messages.success(request, _("Note added."))


@requires(ANSWER)
@require_POST
@_case_action
def case_handover(request: HttpRequest, case: HelpRequest):
    form = forms.HandOverForm(request.POST)
    if not form.is_valid():
        raise services.AidError(_("Please say why you hand the case over."))
    services.hand_over(case, actor=_user(request), reason=form.cleaned_data["reason"])
    messages.success(request, _("The case is back with the coordinators."))
    return redirect("aid:console")


@requires(ANSWER)
@require_POST
@_case_action
def case_close(request: HttpRequest, case: HelpRequest):
    form = forms.CloseForm(request.POST)
    if not form.is_valid():
        raise services.AidError(_("Please choose how the case ended."))
    if not inputs.confirmed(request):
        raise services.AidError(_("Tick “I am sure” first: nothing was done."))
    services.close_case(case, actor=_user(request), outcome=form.cleaned_data["outcome"])
    messages.success(request, _("The case is closed."))


# --- coordinators ----------------------------------------------------------------------------


@requires(TRIAGE)
@require_safe
@no_store
def triage_queue(request: HttpRequest) -> HttpResponse:
    form = forms.QueueFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "language": data["language"] or "",
            "skill": Skill.objects.filter(pk=data["skill"]).first() if data["skill"] else None,
            "urgency": data["urgency"],
            "older_than_hours": data["older_than"],
        }
    status = 400 if form.is_bound and not form.is_valid() else 200
    page = Paginator(services.triage_queue(**filters), 50).get_page(request.GET.get("page"))
    questions = services.open_questions()[:20]
    context = {"form": form, "page": page, "questions": questions}
    return render(request, "aid/triage.html", context, status=status)


@requires(TRIAGE)
@require_POST
@_case_action
def case_triage(request: HttpRequest, case: HelpRequest):
    form = forms.TriageForm(request.POST)
    if not form.is_valid():
        raise services.AidError(_("Please check the triage fields."))
    data = form.cleaned_data
    skill = Skill.objects.filter(pk=data["skill"]).first()
    services.triage(
        case,
        actor=_user(request),
        skill=skill,
        urgency=data["urgency"],
        sensitivity=data["sensitivity"],
    )
    messages.success(request, _("Triage saved."))


@requires(TRIAGE)
@require_POST
@_case_action
def case_offer(request: HttpRequest, case: HelpRequest):
    volunteer = None
    if request.POST.get("volunteer"):
        volunteer = _volunteer_or_error(request.POST["volunteer"])
    made = services.offer(case, actor=_user(request), volunteer=volunteer)
    if made is None:
        messages.warning(request, _("Nobody matches this request right now."))
    else:
        messages.success(
            request, _("Offered to %(name)s.") % {"name": made.volunteer.user.pseudonym}
        )


def _volunteer_or_error(public_id: str) -> VolunteerProfile:
    try:
        volunteer = (
            VolunteerProfile.objects.select_related("user").filter(public_id=public_id).first()
        )
    except Exception:  # a malformed UUID
        volunteer = None
    if volunteer is None:
        raise services.AidError(_("No such volunteer."))
    return volunteer


@requires(TRIAGE)
@require_POST
@_case_action
def case_assign(request: HttpRequest, case: HelpRequest):
    volunteer = _volunteer_or_error(request.POST.get("volunteer", ""))
    services.assign(case, volunteer, actor=_user(request))
    messages.success(request, _("Assigned to %(name)s.") % {"name": volunteer.user.pseudonym})


@requires(TRIAGE)
@require_POST
@_case_action
def case_spam(request: HttpRequest, case: HelpRequest):
    if not inputs.confirmed(request):
        raise services.AidError(_("Tick “I am sure” first: nothing was done."))
    was = case.status
    services.mark_spam(case, actor=_user(request))
    messages.success(request, _("Marked as spam."))
    if was in services.UNDO_SPAM_TO:
        undo.offer(request, "aid.spam", case=case.pk, status=was)
    return redirect("aid:triage")


@requires(TRIAGE)
@require_POST
@_case_action
def case_merge(request: HttpRequest, case: HelpRequest):
    form = forms.MergeForm(request.POST)
    code = form.data.get("into", "").strip().upper()
    target = HelpRequest.objects.filter(code=code).first() if form.is_valid() else None
    if target is None:
        raise services.AidError(_("No request has the code %(code)s.") % {"code": code[:12]})
    services.merge(case, target, actor=_user(request))
    messages.success(request, _("Merged into %(code)s.") % {"code": target.code})
    return redirect("aid:case", public_id=target.public_id)


@requires(TRIAGE)
@require_safe
@no_store
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = stats.dashboard()
    labels = {s.slug: s.label for s in Skill.objects.all()}
    figures["by_category"] = [(labels.get(k, k), row) for k, row in figures["by_category"]]
    figures["by_language"] = [(AID_LANGUAGES.get(k, k), row) for k, row in figures["by_language"]]
    outcomes = dict(HelpRequest.Outcome.choices)
    figures["by_outcome"] = [(outcomes.get(k, k), row) for k, row in figures["by_outcome"]]
    return render(request, "aid/dashboard.html", {"figures": figures})


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
@no_store
def volunteers(request: HttpRequest) -> HttpResponse:
    form = forms.VouchForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            account = form.cleaned_data["account"].strip()
            found = User.objects.filter(Q(email__iexact=account) | Q(pseudonym__iexact=account))
            user = found.first()
            if user is None:
                form.add_error("account", _("No account has this pseudonym or email."))
                status = 400
            else:
                try:
                    languages = form.cleaned_data["languages"]
                    services.vouch_for(user, actor=_user(request), languages=languages)
                except services.AidError as error:
                    form.add_error(None, str(error))
                    status = 400
                else:
                    messages.success(
                        request,
                        _("%(name)s is now a volunteer, on probation.") % {"name": user.pseudonym},
                    )
                    return redirect("aid:volunteers")
        else:
            status = 400
    page = Paginator(
        VolunteerProfile.objects.select_related("user", "vouched_by").order_by("user__pseudonym"),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "aid/volunteers.html",
        {"form": form, "page": page, "trust_form": forms.TrustForm()},
        status=status,
    )


@requires(TRIAGE)
@require_POST
def volunteer_trust(request: HttpRequest, public_id) -> HttpResponse:
    volunteers = VolunteerProfile.objects.select_related("user")
    volunteer = get_object_or_404(volunteers, public_id=public_id)
    form = forms.TrustForm(request.POST)
    if form.is_valid():
        services.set_trust(volunteer, form.cleaned_data["trust"], actor=_user(request))
        name = volunteer.user.pseudonym
        messages.success(request, _("Trust changed for %(name)s.") % {"name": name})
    else:
        messages.error(request, _("Unknown trust level."))
    return redirect("aid:volunteers")


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest) -> HttpResponse:
    """Coordinators keep the skills and the canned replies."""
    status = 200
    if request.method == "POST":
        user = _user(request)
        try:
            if request.POST.get("what") == "skill":
                skill = None
                if request.POST.get("id"):
                    skill = get_object_or_404(Skill, pk=_int_or_404(request.POST["id"]))
                services.save_skill(
                    actor=user,
                    slug=request.POST.get("slug", ""),
                    name=request.POST.get("name", ""),
                    active=request.POST.get("active") == "on",
                    skill=skill,
                )
            else:
                reply = None
                if request.POST.get("id"):
                    reply = get_object_or_404(CannedReply, pk=_int_or_404(request.POST["id"]))
                delete = request.POST.get("delete") == "1"
                if delete and not inputs.confirmed(request):
                    raise services.AidError(_("Tick “I am sure” first: nothing was done."))
                services.save_canned_reply(
                    actor=user,
                    language=request.POST.get("language", ""),
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    reply=reply,
                    delete=delete,
                )
        except services.AidError as error:
            messages.error(request, str(error))
            status = 400
        else:
            messages.success(request, _("Saved."))
            return redirect("aid:catalogue")
    context = {
        "skills": Skill.objects.all(),
        "replies": CannedReply.objects.all(),
        "languages": list(AID_LANGUAGES.items()),
    }
    return render(request, "aid/catalogue.html", context, status=status)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


# --- keys of sealed cases -------------------------------------------------------------------
# The key pairs are made and opened in the browser (aid/keys.js); these views only store and
# hand out public keys and wrapped (sealed) private keys, which the server cannot open.


def _json_error(error: Exception | str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": str(error)}, status=status)


def _string_map(raw: str) -> dict[str, str] | None:
    """A JSON object of strings from a form field, or None (bad, deep or huge input)."""
    try:
        value = json.loads(raw) if len(raw) < 4_000_000 else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return None
    return value


def _recently_confirmed(view):
    """Making a key, the team key, or sharing the team key takes a fresh sign-in (password
    or second factor) on top of the session: a stolen session cookie alone gets no key."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and not did_recently_reauthenticate(request):
            return JsonResponse(
                {
                    "error": _("Please confirm it is you first."),
                    "reauthenticate": reverse("account_reauthenticate"),
                },
                status=401,
            )
        return view(request, *args, **kwargs)

    return wrapper


@requires(ANSWER)
@require_safe
@no_store
def keys_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    coordinator = services.is_coordinator(user)
    reader = services.reader_key_of(user)
    team = services.current_team_key()
    context = {
        "may_hold": services.may_hold_reader_key(user),
        "reader_key": reader,
        "coordinator": coordinator,
        "team_key": team,
        "team_grant": services.team_key_grant_for(user) if coordinator else None,
        "retention_days": services.intake_terms()["retention_days"],
        "confirmed": did_recently_reauthenticate(request),
        "custodians": _custodians_shown() if coordinator else [],
    }
    return render(request, "aid/keys.html", context)


def _custodians_shown() -> list[dict]:
    return [
        {
            "custodian": custodian,
            "fingerprint": services.fingerprint(key.public_key) if key else "",
            "silent": services.is_silent(custodian),
        }
        for custodian, key in services.custodians()
    ]


@requires(TRIAGE)
@require_POST
@no_store
def keys_custodian_revoke(request: HttpRequest, public_id) -> HttpResponse:
    """A coordinator revokes a key custodian (its machine may be lost): after a fresh
    sign-in, and with "I am sure" ticked."""
    page = reverse("aid:keys")
    if not did_recently_reauthenticate(request):
        return redirect(f"{reverse('account_reauthenticate')}?next={page}")
    custodian = services.custodian_by_id(public_id)
    if custodian is None:
        raise Http404
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick “I am sure” to revoke the custodian."))
        return redirect(page)
    services.revoke_custodian(custodian, actor=_user(request))
    messages.success(
        request,
        _("The custodian %(name)s is revoked. Renew the team key now.") % {"name": custodian.name},
    )
    return redirect(page)


@requires(ANSWER)
@require_POST
@no_store
@_recently_confirmed
def keys_reader(request: HttpRequest) -> HttpResponse:
    try:
        key = services.register_reader_key(
            _user(request), public_key=request.POST.get("public_key", "")
        )
    except services.AidError as error:
        return _json_error(error)
    return JsonResponse({"reader_key": str(key.public_id), "public_key": key.public_key})


@requires(ANSWER)
@require_safe
@no_store
def keys_mine(request: HttpRequest) -> HttpResponse:
    """What this person's browser needs: their public key, and for a coordinator the team
    key wrapped to it."""
    user = _user(request)
    reader = services.reader_key_of(user)
    grant = services.team_key_grant_for(user)
    return JsonResponse(
        {
            "public_key": reader.public_key if reader else "",
            "team_public": grant.team_key.public_key if grant else "",
            "team_wrapped": grant.wrapped if grant else "",
            "rotation_due": bool(grant) and services.team_key_rotation_due(),
        }
    )


@requires(TRIAGE)
@require_POST
@no_store
@_recently_confirmed
def keys_team(request: HttpRequest) -> HttpResponse:
    try:
        team = services.create_team_key(
            actor=_user(request),
            public_key=request.POST.get("public_key", ""),
            wrapped_for_self=request.POST.get("wrapped", ""),
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"team_public": team.public_key})


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
@no_store
@_recently_confirmed
def keys_team_rotate(request: HttpRequest) -> HttpResponse:
    """GET: the case keys to re-wrap; POST: the new team key with every case key re-wrapped
    (`cases`: a JSON object, case id → wrapped key)."""
    user = _user(request)
    if request.method == "GET":
        return JsonResponse(
            {
                "cases": services.rotation_material(user),
                "holders": services.rotation_holders(user),
            }
        )
    cases = _string_map(request.POST.get("cases", ""))
    holders = _string_map(request.POST.get("holders", "{}"))
    if cases is None or holders is None:
        return _json_error(_("The re-wrapped case keys are missing."))
    try:
        team = services.rotate_team_key(
            actor=user,
            public_key=request.POST.get("public_key", ""),
            wrapped_for_self=request.POST.get("wrapped", ""),
            cases=cases,
            holders=holders,
        )
    except services.RotationChanged as changed:
        # What came meanwhile, for the browser to wrap and send again with the rest.
        return JsonResponse(
            {
                "error": str(changed),
                "missing": {"cases": changed.cases, "holders": changed.holders},
            },
            status=409,
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"team_public": team.public_key})


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
@no_store
@_recently_confirmed
def keys_team_grants(request: HttpRequest) -> HttpResponse:
    """GET: coordinators waiting for the team key; POST: share it with one of them."""
    user = _user(request)
    if request.method == "GET":
        waiting = services.coordinators_waiting_for_team_key()
        return JsonResponse(
            {
                "waiting": [
                    {
                        "reader_key": str(key.public_id),
                        "public_key": key.public_key,
                        "pseudonym": key.user.pseudonym,
                    }
                    for key in waiting
                ]
            }
        )
    reader = services.reader_key_by_id(request.POST.get("reader_key", ""))
    if reader is None:
        return _json_error(_("This key is not known."))
    try:
        services.grant_team_key(
            actor=user, reader_key=reader, wrapped=request.POST.get("wrapped", "")
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"ok": True})


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
@no_store
def keys_relays(request: HttpRequest) -> HttpResponse:
    """GET: answers waiting for a worker that lost its key; POST: one of them sealed again
    (`message`, and `sender`/`sealed` pairs: a worker's public key and the text sealed to it)."""
    return _relays(request, _user(request))


def _relays(request: HttpRequest, user) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse({"waiting": services.relays_waiting(user)})
    senders = request.POST.getlist("sender")
    sealed = request.POST.getlist("sealed")
    if len(senders) != len(sealed) or not 0 < len(senders) <= 16:
        return _json_error(_("Send each sealed answer with the key it is sealed to."))
    try:
        services.reseal_relay(
            user,
            message_id=request.POST.get("message", ""),
            sealed=dict(zip(senders, sealed, strict=True)),
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"ok": True})


@requires(TRIAGE)
@require_http_methods(["GET", "POST"])
@no_store
def keys_case_grants(request: HttpRequest) -> HttpResponse:
    """GET: cases whose volunteer cannot open them yet; POST: share one case's key."""
    user = _user(request)
    if request.method == "GET":
        return JsonResponse({"pending": services.pending_case_grants(user)})
    case_id = inputs.uuid_or_none(request.POST.get("case"))
    case = services.get_case_for_user(user, case_id, audited=False) if case_id else None
    reader = services.reader_key_by_id(request.POST.get("reader_key", ""))
    if case is None or reader is None:
        return _json_error(_("This case or key is not known."))
    try:
        services.grant_case_key(
            case, actor=user, reader_key=reader, wrapped=request.POST.get("wrapped", "")
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"ok": True})


# --- the key custodian's calls (`krov custodian run`): a token, no session, JSON only -------


def _custodian_call(view=None, *, proof: bool = True):
    """Checks the custodian's token first; the view gets the custodian. With `proof` (every
    call but registering the key and `mine`, which hands out the challenge) the caller must
    also send the opened challenge: the token alone reads and writes no key. Only a proven
    call counts as the custodian being heard from. No cookie is read or set, so there is no
    CSRF to check; answers are never cached."""

    def decorate(view):
        @csrf_exempt
        @no_store
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
            custodian = (
                services.custodian_for_token(token.strip()) if scheme.lower() == "bearer" else None
            )
            if custodian is None:
                response = _json_error(
                    _("This custodian token is not known or was revoked."), status=401
                )
                response["WWW-Authenticate"] = 'Bearer realm="krov-custodian"'
                return response
            proven = services.custodian_proves_key(
                custodian, request.headers.get(CUSTODIAN_PROOF_HEADER, "")
            )
            if proof and not proven:
                refused = _json_error(
                    _(
                        "This call needs the custodian's proof of key: the custodian opens it "
                        "from its key file (update and restart it)."
                    ),
                    status=403,
                )
                # A running custodian whose proof lapsed asks for a new one, and goes on.
                refused[CUSTODIAN_PROOF_HEADER] = "needed"
                return refused
            if proven:
                services.custodian_seen(custodian)
            return view(request, custodian, *args, **kwargs)

        return token("key custodian")(wrapper)

    return decorate(view) if view is not None else decorate


@_custodian_call(proof=False)
@require_POST
def custodian_key(request: HttpRequest, custodian) -> HttpResponse:
    """The public half of the key the custodian made on its machine (once)."""
    try:
        key = services.register_custodian_key(
            custodian, public_key=request.POST.get("public_key", "")
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse(
        {"reader_key": str(key.public_id), "fingerprint": services.fingerprint(key.public_key)}
    )


@_custodian_call(proof=False)
@require_safe
def custodian_mine(request: HttpRequest, custodian) -> HttpResponse:
    """As keys_mine: the custodian's public key and the team key wrapped to it, once shared."""
    reader = services.reader_key_of(custodian.user)
    grant = services.team_key_grant_for(custodian.user)
    return JsonResponse(
        {
            "name": custodian.name,
            "public_key": reader.public_key if reader else "",
            "team_public": grant.team_key.public_key if grant else "",
            "team_wrapped": grant.wrapped if grant else "",
            "rotation_due": bool(grant) and services.team_key_rotation_due(),
            # Opened with the custodian's key and sent back with its other calls.
            "challenge": services.custodian_challenge(custodian),
        }
    )


@_custodian_call
@require_http_methods(["GET", "POST"])
def custodian_case_grants(request: HttpRequest, custodian) -> HttpResponse:
    """As keys_case_grants, for the custodian."""
    if request.method == "GET":
        return JsonResponse({"pending": services.pending_case_grants(custodian.user)})
    try:
        services.custodian_grant_case_key(
            custodian,
            case_id=request.POST.get("case", ""),
            reader_key_id=request.POST.get("reader_key", ""),
            wrapped=request.POST.get("wrapped", ""),
        )
    except services.AidError as error:
        return _json_error(error, status=409)
    return JsonResponse({"ok": True})


@_custodian_call
@require_http_methods(["GET", "POST"])
def custodian_relays(request: HttpRequest, custodian) -> HttpResponse:
    """As keys_relays, for the custodian."""
    return _relays(request, custodian.user)
