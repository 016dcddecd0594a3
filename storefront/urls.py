"""The storefront's pages, at the site's root (the API stays under /api/, the admin at /admin/)."""

from django.urls import include, path

app_name = "storefront"

urlpatterns = [
    path("", include("storefront.signin.urls")),
]
