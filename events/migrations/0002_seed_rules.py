"""Seed the business-rule constants and rule data from the bundled upstream files."""

from django.db import migrations


def seed(apps, schema_editor):
    from events.services import seed_folder_data, seed_rule_data_into

    RuleConfiguration = apps.get_model("events", "RuleConfiguration")
    ConfigurationVersion = apps.get_model("events", "ConfigurationVersion")
    if not RuleConfiguration.objects.filter(pk=1).exists():
        RuleConfiguration.objects.create(pk=1)
    if not apps.get_model("events", "HpkCode").objects.exists():
        seed_rule_data_into(lambda name: apps.get_model("events", name), seed_folder_data(), replace=False)
    ConfigurationVersion.objects.get_or_create(pk=1, defaults={"version": 1})


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
