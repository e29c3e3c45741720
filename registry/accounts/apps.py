from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts: the custom user, organizations, memberships and API keys."""

    name = "registry.accounts"
    label = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up

        from registry.accounts.presence import record_signup

        # allauth's own hook into its sign-up flow (there is no adapter method for it that runs for
        # every flow, the headless one included); it only adds a record to the session.
        user_signed_up.connect(record_signup, dispatch_uid="restu-signup-is-presence")
