-- description: Journeys per year and industry with the sum of their distinct channels: the cells the Report page measures published channels per journey on. Filters: '' = all.
-- kinds: all
SELECT toYear(day) AS year, industry, sum(journeys) AS journeys, sum(channels) AS channels
FROM rollup_journeys_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry
ORDER BY year, industry
