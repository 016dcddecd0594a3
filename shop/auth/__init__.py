"""Tokens and the identity provider: the verifier, its keys, Cognito, the OIDC flow, production's checks."""
