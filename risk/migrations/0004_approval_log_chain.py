"""The approval log (already append-only by 0002's trigger) is hash-chained and refuses
TRUNCATE too (coop/audit_chain.py)."""

from django.db import migrations

from coop.audit_chain import APPROVAL_LOG, install_sql, uninstall_sql


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_inspections")]

    operations = [migrations.RunSQL(install_sql(APPROVAL_LOG), uninstall_sql(APPROVAL_LOG))]
