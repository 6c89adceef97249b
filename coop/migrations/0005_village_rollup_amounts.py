"""Granted limits and drawn principal per village in the village rollup (the grid coverage page
reads them). The rows refreshed before this migration have no amounts, so the rollup is marked
never refreshed: pages compute live until the next ten-minute refresh fills it."""

from django.db import migrations, models


def forget_village_refresh(apps, schema_editor):
    apps.get_model("coop", "DashboardRollup").objects.filter(name="villages").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coop", "0004_dashboard_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="dashboardvillagerollup",
            name="drawn",
            field=models.DecimalField(
                decimal_places=2, default=0, max_digits=18, verbose_name="drawn"
            ),
        ),
        migrations.AddField(
            model_name="dashboardvillagerollup",
            name="granted",
            field=models.DecimalField(
                decimal_places=2, default=0, max_digits=18, verbose_name="granted"
            ),
        ),
        migrations.RunPython(forget_village_refresh, migrations.RunPython.noop),
    ]
