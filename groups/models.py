"""Patient, free and all-users groups, memberships, supporter reviews and the archive."""
