"""Sign-in URLs; the callback is the one registered with the storefront's Cognito app client."""

from django.urls import path

from storefront.signin import views

urlpatterns = [
    path("signin/", views.sign_in, name="sign-in"),
]
