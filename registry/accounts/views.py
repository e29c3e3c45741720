"""Pages of accounts: the invitation link people receive by email."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from registry.accounts import services
from registry.errors import DomainError, NotFound


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show what the invitation offers and accept it; only the account with the invited address can.

    Everyone else gets 404 whether the token exists or not, so a guessed or forwarded link says nothing.
    """
    found = services.invitation_by_token(token)
    if found is None or found.email not in services.invitee_addresses(request.user):  # type: ignore[arg-type]  # login_required: a User
        raise Http404
    if request.method == "POST":
        try:
            services.invitation_accept(invitation=found, user=request.user, token=token)  # type: ignore[arg-type]  # as above
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, exc.detail)
            return redirect(request.path)
        messages.success(request, _("Invitation accepted."))
        return redirect("home")
    context = {"invitation": found, "offer": services.invitation_describe(found)}
    return render(request, "account/invitation.html", context)
