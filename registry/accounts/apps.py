from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts: the custom user, organizations, memberships and API keys."""

    name = "registry.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"
