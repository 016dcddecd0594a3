"""The company sign-in settings derived from the environment: endpoints from region, pool, domain."""

from __future__ import annotations

from awsomeshop.settings.admin_sign_in import admin_oidc_settings

CONFIGURED = {
    "ADMIN_OIDC_CLIENT_ID": "admin-client",
    "ADMIN_OIDC_CLIENT_SECRET": "admin-secret",
    "COGNITO_DOMAIN": "awsomeshop-prod.auth.eu-west-1.amazoncognito.com",
    "COGNITO_USER_POOL_ID": "eu-west-1_Pool12345",
}


def test_endpoints_come_from_the_hosted_ui_domain_and_the_pool():
    s = admin_oidc_settings(CONFIGURED, region="eu-west-1")
    assert s["ADMIN_OIDC_ENABLED"] is True
    ui = "https://awsomeshop-prod.auth.eu-west-1.amazoncognito.com"
    assert s["OIDC_OP_AUTHORIZATION_ENDPOINT"] == f"{ui}/oauth2/authorize"
    assert s["OIDC_OP_TOKEN_ENDPOINT"] == f"{ui}/oauth2/token"
    assert s["OIDC_OP_LOGOUT_ENDPOINT"] == f"{ui}/logout"
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool12345"
    assert s["ADMIN_OIDC_ISSUER"] == issuer
    assert s["OIDC_OP_JWKS_ENDPOINT"] == f"{issuer}/.well-known/jwks.json"
    assert (s["OIDC_RP_CLIENT_ID"], s["OIDC_RP_CLIENT_SECRET"]) == ("admin-client", "admin-secret")


def test_a_custom_domain_or_a_local_provider_url_is_taken_as_given():
    s = admin_oidc_settings(
        {**CONFIGURED, "COGNITO_DOMAIN": "https://login.example.com/"}, region="eu-west-1"
    )
    assert s["OIDC_OP_TOKEN_ENDPOINT"] == "https://login.example.com/oauth2/token"
    s = admin_oidc_settings({**CONFIGURED, "COGNITO_DOMAIN": "http://127.0.0.1:9000"}, region="eu-west-1")
    assert s["OIDC_OP_AUTHORIZATION_ENDPOINT"] == "http://127.0.0.1:9000/oauth2/authorize"


def test_each_missing_part_leaves_sign_in_unconfigured():
    for missing in CONFIGURED:
        environ = {k: v for k, v in CONFIGURED.items() if k != missing}
        assert admin_oidc_settings(environ, region="eu-west-1")["ADMIN_OIDC_ENABLED"] is False, missing
    assert admin_oidc_settings({}, region="us-east-2")["OIDC_OP_TOKEN_ENDPOINT"] == ""


def test_a_half_configured_company_sign_in_is_a_system_check_warning(settings):
    from shop.access.admin_sign_in.checks import company_sign_in_configured

    settings.ADMIN_OIDC_ENABLED = False
    settings.OIDC_RP_CLIENT_ID = "admin-client"
    settings.OIDC_RP_CLIENT_SECRET = ""
    settings.COGNITO_DOMAIN_URL = "https://login.example.com"
    settings.ADMIN_OIDC_ISSUER = ""
    (warning,) = company_sign_in_configured()
    assert warning.id == "shop.W101"
    assert "ADMIN_OIDC_CLIENT_SECRET, COGNITO_USER_POOL_ID" in warning.msg
    settings.OIDC_RP_CLIENT_ID = settings.COGNITO_DOMAIN_URL = ""
    assert company_sign_in_configured() == []  # not configured at all: nothing to say
    # The pool alone is the API's Cognito configuration, not a start of the admin's.
    settings.ADMIN_OIDC_ISSUER = "https://cognito-idp.us-east-2.amazonaws.com/us-east-2_Pool12345"
    assert company_sign_in_configured() == []
