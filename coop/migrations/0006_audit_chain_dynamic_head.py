"""The transition log's chain trigger reads the newest row with dynamic SQL, planned on every
insert (``coop.audit_chain.chain_function_sql``), instead of a plan cached per session."""

from django.db import migrations

from coop.audit_chain import AUDIT_EVENT, chain_function_sql


class Migration(migrations.Migration):
    dependencies = [("coop", "0005_village_rollup_amounts")]

    operations = [migrations.RunSQL(chain_function_sql(AUDIT_EVENT), migrations.RunSQL.noop)]
