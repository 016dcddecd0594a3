"""Token verification: one verifier, fed by the Cognito JWKS or by the local issuer's key."""
