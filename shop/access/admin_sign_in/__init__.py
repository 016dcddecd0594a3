"""HR sign-in to the admin: Cognito's hosted UI (OpenID Connect, PKCE) and the password policy."""
