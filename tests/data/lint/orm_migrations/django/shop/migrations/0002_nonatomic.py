from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField(model_name="customer", name="nick", field=models.TextField(null=True)),
        migrations.RunSQL("CREATE INDEX ASYNC customer_nick ON shop_customer (nick);"),
    ]
