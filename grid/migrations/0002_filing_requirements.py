"""The default filing requirements: everything but the annual income counts (seed 003: a file is
complete only with the family members, the elderly and children included)."""

from django.db import migrations

DEFAULTS = [
    ("head_customer", True),
    ("village_group", True),
    ("address", True),
    ("income_sources", True),
    ("annual_income", False),
    ("assets", True),
    ("labour_count", True),
    ("members", True),
]


def create_defaults(apps, schema_editor):
    FilingRequirement = apps.get_model("grid", "FilingRequirement")
    for item, required in DEFAULTS:
        FilingRequirement.objects.get_or_create(
            item=item, defaults={"required": required, "weight": 1}
        )


class Migration(migrations.Migration):
    dependencies = [("grid", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
