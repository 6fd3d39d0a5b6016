-- description: Coverage of contract 1.1's fields per year, read from the raw events: the share of IVR calls that say how the caller left (exit_reason, or agent_requested set), of chatbot sessions that carry a 1.1 field (duration, hand-off request, resolution), of failed and undelivered receipts with an error code, of customers' social and chat messages with a conversation_id, and of inbound contacts with a contact reason. A yes/no field left out reads as no, so a figure resting on one (reply-enabled sends, calls asking for a person) is only as complete as these shares say. Filters: '' = all.
-- kinds: all
SELECT
    toYear(occurred_at) AS year,
    countIf(kind = 'ivr_call') AS ivr_calls,
    round(countIf(kind = 'ivr_call' AND (exit_reason != '' OR agent_requested))
        / nullIf(ivr_calls, 0), 6) AS ivr_coverage,
    countIf(kind = 'chatbot_session') AS chatbot_sessions,
    round(countIf(kind = 'chatbot_session' AND (duration_s > 0 OR handoff_requested OR resolved))
        / nullIf(chatbot_sessions, 0), 6) AS chatbot_coverage,
    countIf(kind = 'message_receipt' AND status IN ('failed', 'undelivered')) AS failures,
    round(countIf(kind = 'message_receipt' AND status IN ('failed', 'undelivered')
        AND error_code != '') / nullIf(failures, 0), 6) AS error_code_coverage,
    countIf(direction = 'inbound' AND channel IN ('social', 'chat')
        AND kind IN ('touch', 'message_received')) AS customer_messages,
    round(countIf(direction = 'inbound' AND channel IN ('social', 'chat')
        AND kind IN ('touch', 'message_received') AND conversation_id != '')
        / nullIf(customer_messages, 0), 6) AS conversation_coverage,
    countIf(direction = 'inbound'
        AND kind IN ('touch', 'ivr_call', 'chatbot_session', 'message_received')) AS inbound_contacts,
    round(countIf(direction = 'inbound'
        AND kind IN ('touch', 'ivr_call', 'chatbot_session', 'message_received')
        AND contact_reason != '') / nullIf(inbound_contacts, 0), 6) AS contact_reason_coverage
FROM interactions
WHERE occurred_at >= {start:DateTime} AND occurred_at < {end:DateTime}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year
ORDER BY year
