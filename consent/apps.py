from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """People's consent to the use of their likeness, and studios' checks against it."""

    name = "consent"
    verbose_name = "Consent and verification"
