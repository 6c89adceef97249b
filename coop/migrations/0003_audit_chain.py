"""The transition log becomes append-only and hash-chained in Postgres (coop/audit_chain.py)."""

from django.db import migrations

from coop.audit_chain import AUDIT_EVENT, install_sql, uninstall_sql


class Migration(migrations.Migration):
    dependencies = [("coop", "0002_task_runs")]

    operations = [migrations.RunSQL(install_sql(AUDIT_EVENT), uninstall_sql(AUDIT_EVENT))]
