-- description: Whether an alert rule already fired for a period (rows in alerts): the check delivers a rule once per period.
SELECT count() AS fired
FROM alerts FINAL
WHERE rule_id = {rule_id:String}
  AND period_start = {period_start:Date}
  AND period_end = {period_end:Date}
