# Graph's metadata has one connectorGroupType member, applicationProxy: the seed's former
# syncFabric group becomes an ordinary applicationProxy group.

from django.db import migrations, models


def documented_types_only(apps, schema_editor):
    ConnectorGroup = apps.get_model("sandbox", "ConnectorGroup")
    ConnectorGroup.objects.exclude(connector_group_type="applicationProxy").update(
        connector_group_type="applicationProxy"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('sandbox', '0004_consent'),
    ]

    operations = [
        migrations.AlterField(
            model_name='connectorgroup',
            name='connector_group_type',
            field=models.CharField(choices=[('applicationProxy', 'Application Proxy')], default='applicationProxy', max_length=32),
        ),
        migrations.RunPython(documented_types_only, migrations.RunPython.noop),
    ]
