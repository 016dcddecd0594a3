"""The product's URLs plus the reference views the benchmark compares them with."""

from django.urls import include, path

from bench.http import reference

urlpatterns = [
    path("bench/bare", reference.bare),
    path("bench/catalog", reference.catalog),
    path("bench/redeem", reference.redeem),
    path("", include("awsomeshop.urls")),
]

handler400 = "shop.http.errors.handler400"
handler403 = "shop.http.errors.handler403"
handler404 = "shop.http.errors.handler404"
handler500 = "shop.http.errors.handler500"
