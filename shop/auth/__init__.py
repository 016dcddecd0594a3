"""Tokens and the identity provider: the verifier and its keys, Cognito's GetUser, the OIDC code flow, production's checks."""
