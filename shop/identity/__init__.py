"""The employees: writes and reads, the roster import, departments, provisioning, the Cognito pool sync."""
