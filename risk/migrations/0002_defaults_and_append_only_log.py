from django.db import migrations

from risk.defaults import install

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION risk_approvallog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'risk_approvallog is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER risk_approvallog_append_only
    BEFORE UPDATE OR DELETE ON risk_approvallog
    FOR EACH ROW EXECUTE FUNCTION risk_approvallog_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS risk_approvallog_append_only ON risk_approvallog;
DROP FUNCTION IF EXISTS risk_approvallog_append_only();
"""


def seed_defaults(apps, schema_editor):
    install(
        ruleset_model=apps.get_model("risk", "RoutingRuleSet"),
        rule_model=apps.get_model("risk", "RoutingRule"),
        authority_model=apps.get_model("risk", "StageAuthority"),
        sla_model=apps.get_model("risk", "StageSLA"),
        policy_model=apps.get_model("risk", "CommitteePolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [
        migrations.RunPython(seed_defaults, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
