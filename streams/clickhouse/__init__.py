"""ClickHouse: client, URL, migrations, views, the cluster form, accounts, named queries."""
