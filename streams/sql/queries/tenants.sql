-- description: The tenants the rollups hold, with their interactions (receipts excluded), for the dashboard's tenant filter.
-- kinds: all but message_receipt
SELECT tenant, sum(interactions) AS interactions
FROM rollup_interactions_daily
WHERE kind != 'message_receipt'
GROUP BY tenant
ORDER BY tenant
