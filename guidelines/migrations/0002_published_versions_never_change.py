"""docs/design.md invariant 2 in the database itself: a published guideline version never changes.

The services and the admin already refuse to edit a published or retired version; this trigger
also stops what bypasses them (a plain ``save()``, ``QuerySet.update()``, a SQL console). Once a
row is no longer a draft, an UPDATE that changes any content column below, or that turns it back
into a draft, fails with an IntegrityError ("a published guideline version never changes…").

Left writable on purpose: ``status``, ``published_at`` and ``retired_at`` (publishing and retiring
write them), ``updated``, and ``created_by`` (set to NULL when that user is deleted). Publishing
itself writes ``digest`` while the row is still a draft, which the trigger allows.

A later migration that alters this table must keep the trigger: SQLite drops it with the table
when Django rebuilds one, PostgreSQL with a column it references (DROP COLUMN … CASCADE).
tests/registry/test_invariants.py fails if the guard is gone.
"""

from django.db import migrations

from registry.frozen_rows import frozen_trigger_create, frozen_trigger_drop

NAME = "restu_guideline_version_frozen"
MESSAGE = "a published guideline version never changes; publish a new version"
# Every column that makes up the published content or names it (model field names).
FROZEN = (
    "public_id",
    "guideline",
    "version",
    "sort_key",
    "language",
    "body",
    "clauses",
    "translations",
    "supersedes",
    "digest",
)


def create_trigger(apps, schema_editor):
    model = apps.get_model("guidelines", "GuidelineVersion")
    frozen_trigger_create(schema_editor, model, name=NAME, message=MESSAGE, frozen=FROZEN)


def drop_trigger(apps, schema_editor):
    frozen_trigger_drop(schema_editor, apps.get_model("guidelines", "GuidelineVersion"), name=NAME)


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
