-- description: Journeys per year and industry, and the average number of distinct channels they used (journeys are placed on the day of their first event). Filters: '' = all.
-- kinds: all
SELECT
    toYear(day) AS year,
    industry,
    sum(journeys) AS journeys,
    round(sum(channels) / nullIf(journeys, 0), 4) AS channels_per_journey
FROM rollup_journeys_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
GROUP BY year, industry
ORDER BY year, industry
