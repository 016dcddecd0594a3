"""The employees: their writes and reads, the roster import, departments, first-sign-in provisioning, the Cognito pool sync."""
