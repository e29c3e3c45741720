"""Subjects, representatives, consents, verifications, receipts, releases and the access log."""
