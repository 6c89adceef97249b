"""The approval log's chain trigger reads the newest row with dynamic SQL, planned on every
insert (``coop.audit_chain.chain_function_sql``), instead of a plan cached per session."""

from django.db import migrations

from coop.audit_chain import APPROVAL_LOG, chain_function_sql


class Migration(migrations.Migration):
    dependencies = [("risk", "0005_list_indexes")]

    operations = [migrations.RunSQL(chain_function_sql(APPROVAL_LOG), migrations.RunSQL.noop)]
