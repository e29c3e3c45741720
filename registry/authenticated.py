"""The request of a page that only signed-in people reach, for type checking."""

from __future__ import annotations

from django.http import HttpRequest

from registry.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """Annotates the ``request`` of a view behind ``login_required`` (or a helper such a view calls):
    Django has sent anyone else to sign in, so ``request.user`` is a ``User``, never
    ``AnonymousUser``. Only an annotation: Django still passes its own ``HttpRequest``."""

    user: User
