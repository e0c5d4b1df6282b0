"""Platform: tenancy, users, teams, roles and visibility, audit log, and the API framework."""
