"""Employee sign-in to the storefront: Cognito's hosted UI (OIDC code flow with PKCE), sign-out."""
