from django.http import HttpResponse
from django.urls import path

from krov.urls import urlpatterns as krov_urlpatterns


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("bench/hello", hello), *krov_urlpatterns]
