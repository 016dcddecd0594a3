"""Grant batches and requests name the department a department grant was for (item 12 of issue 22)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('points', '0011_grant_batch_department_source'),
    ]

    operations = [
        migrations.AddField(
            model_name='grantbatch',
            name='department',
            field=models.CharField(blank=True, db_default='', default='', max_length=100),
        ),
        migrations.AddField(
            model_name='grantrequest',
            name='department',
            field=models.CharField(blank=True, db_default='', default='', max_length=100),
        ),
        migrations.AlterField(
            model_name='grantrequest',
            name='source',
            field=models.CharField(blank=True, choices=[('all_active', 'All active employees'), ('selection', 'Selected employees'), ('department', 'A department'), ('csv', 'CSV file'), ('approved_grant', 'Approved grant to one employee'), ('approved_adjust', 'Approved adjustment')], help_text='Whom a bulk grant was for.', max_length=32),
        ),
    ]
