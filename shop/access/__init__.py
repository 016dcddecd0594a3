"""Who gets in: the API's authentication and permission, HR's admin sign-in and lockouts, the HR role."""
