-- description: Alerts that fired for periods starting in the range: the rule, its metric and slice, the period and comparison, the values, the change (points for a share, percent otherwise), the sentence delivered and when. Filters: rule_id '' = all.
SELECT
    rule_id, metric, slice, period_start, period_end, compare_start, compare_end, value,
    previous, change, unit, message, fired_at
FROM alerts FINAL
WHERE period_start >= toDate({start:DateTime}) AND period_start < toDate({end:DateTime})
  AND ({rule_id:String} = '' OR rule_id = {rule_id:String})
ORDER BY period_start DESC, rule_id
