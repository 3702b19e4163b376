from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from krov.urls import urlpatterns as krov_urlpatterns


def hello(request):
    return HttpResponse("hello")


@csrf_exempt
def insert(request):
    """The baseline for intake: store the body, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_body (body) VALUES (%s)", [request.body.decode()])
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/hello", hello), path("bench/insert", insert), *krov_urlpatterns]
