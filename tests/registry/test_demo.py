import pytest
from django.core.management import call_command

from registry.accounts.models import Membership, Organization, User


@pytest.mark.django_db
def test_demo_loads_people_and_organizations_and_is_idempotent():
    call_command("demo")
    counts = (User.objects.count(), Organization.objects.count(), Membership.objects.count())
    assert counts[0] >= 4
    assert set(Organization.objects.values_list("kind", flat=True)) >= {"studio", "project", "guild"}
    call_command("demo")
    assert (User.objects.count(), Organization.objects.count(), Membership.objects.count()) == counts
