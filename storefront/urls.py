"""The storefront's pages, at the site's root (the API stays under /api/, the admin at /admin/)."""

from django.urls import include, path

from storefront import redeem, views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.catalog, name="catalog"),
    path("products/<uuid:pk>/", views.product_detail, name="product"),
    path("products/<uuid:pk>/redeem/", redeem.redeem, name="redeem"),
    path("orders/", views.orders, name="orders"),
    path("orders/<uuid:pk>/", views.order_detail, name="order"),
    path("points/", views.history, name="history"),
    path("settings/emails/", views.preferences, name="preferences"),
    path("", include("storefront.signin.urls")),
]
