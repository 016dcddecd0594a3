"""Who gets in and what they may do: the API's authentication and permission, HR's admin sign-in and lockouts, the HR role."""
