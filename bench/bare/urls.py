from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return HttpResponse("hello")


@csrf_exempt
def insert(request):
    """The baseline for intake: store the body, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_body (body) VALUES (%s)", [request.body.decode()])
    return JsonResponse({"ok": True})


urlpatterns = [path("hello", hello), path("insert", insert)]
