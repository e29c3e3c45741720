"""The consent app's API views, one module per resource: subjects, consents, verification, releases."""
