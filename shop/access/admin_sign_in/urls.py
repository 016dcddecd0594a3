"""Company sign-in URLs under /oidc/; the callback is the one registered with Cognito.

logout/ (POST) ends the Django session and then Cognito's own, so the next sign-in asks again.
"""

from django.urls import path
from mozilla_django_oidc.views import OIDCLogoutView

from shop.access.admin_sign_in import views

urlpatterns = [
    path("authenticate/", views.SignInStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", views.SignInCallbackView.as_view(), name="oidc_authentication_callback"),
    path("logout/", OIDCLogoutView.as_view(), name="oidc_logout"),
]
