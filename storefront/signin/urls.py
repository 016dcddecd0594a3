"""Sign-in URLs; the callback and /signed-out/ are registered with the storefront's Cognito app client."""

from django.urls import path

from storefront.signin import views

urlpatterns = [
    path("signin/", views.sign_in, name="sign-in"),
    path("signin/start/", views.SignInStartView.as_view(), name="sign-in-start"),
    path("signin/callback/", views.SignInCallbackView.as_view(), name="sign-in-callback"),
    path("signin/link/<str:token>/", views.sign_in_link, name="sign-in-link"),
    path("signout/", views.sign_out, name="sign-out"),
    path("signed-out/", views.signed_out, name="signed-out"),
]
