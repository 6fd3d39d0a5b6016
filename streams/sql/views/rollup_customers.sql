-- The second stage's counts (docs/customer-metrics.md) per period and cell of the event each is
-- about, and the pseudonymisation key it was made under; the table is migration 0014's.
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, channel, kind, contact_reason, key_id,
    countIf(measure = 'digital') AS digital,
    countIf(measure = 'leaked') AS leaked,
    countIf(measure = 'contact') AS contacts,
    countIf(measure = 'assisted') AS assisted,
    countIf(measure = 'after_digital') AS after_digital,
    countIf(measure = 'reasoned') AS reasoned,
    countIf(measure = 'repeat') AS repeats,
    countIf(measure = 'reasoned_repeat') AS reasoned_repeats,
    countIf(measure = 'same_reason_repeat') AS same_reason_repeats,
    countIf(measure = 'followed') AS followed
FROM fenced_facts
WHERE fact = 'customer'
GROUP BY ALL
