"""URL map: the employee API under /api/v1/, health, the OpenAPI schema and docs, the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from backoffice import reports as hr_reports
from catalog.apis import CategoryListApi, ProductDetailApi, ProductListApi
from notifications.apis import NotificationPreferenceApi
from orders.apis import OrderDetailApi, OrderListCreateApi
from points.apis import MeApi, TransactionListApi
from shop.http import health
from shop.http.openapi import DocsView, SchemaView

api_v1 = [
    path("me/", MeApi.as_view(), name="me"),
    path("me/notifications/", NotificationPreferenceApi.as_view(), name="me-notifications"),
    path("points/transactions/", TransactionListApi.as_view(), name="transactions"),
    path("categories/", CategoryListApi.as_view(), name="categories"),
    path("products/", ProductListApi.as_view(), name="products"),
    path("products/<uuid:pk>/", ProductDetailApi.as_view(), name="product-detail"),
    path("orders/", OrderListCreateApi.as_view(), name="orders"),
    path("orders/<uuid:pk>/", OrderDetailApi.as_view(), name="order-detail"),
]

# The back office's name, colours and "View site" link are the theme's settings
# (awsomeshop/settings/admin_theme.py); the index page's own title is Django's.
admin.site.index_title = "HR back office"
admin.site.site_url = "/"  # the employee storefront; read by Django's own views too (where "View site" leads)

urlpatterns = [
    path("health", health.HealthApi.as_view(), name="health"),
    path("health/live", health.LiveApi.as_view(), name="health-live"),
    path("healthz", health.HealthzApi.as_view(), name="healthz"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("admin/reports/", include(hr_reports)),
    path("admin/", admin.site.urls),
    # HR's company sign-in to the admin (Cognito hosted UI, OIDC with PKCE).
    path("oidc/", include("shop.access.admin_sign_in.urls")),
    path("api/v1/", include(api_v1)),
    # The employee storefront at the root (sign-in, catalog, orders).
    path("", include("storefront.urls")),
]

if getattr(settings, "SERVE_MEDIA", False):
    # Local mode only: production images live in a private S3 bucket behind signed URLs.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))

handler400 = "storefront.errors.handler400"
handler403 = "storefront.errors.handler403"
handler404 = "storefront.errors.handler404"
handler500 = "storefront.errors.handler500"
