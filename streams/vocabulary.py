"""Controlled vocabularies of the domain (``shared/domain.md``): the values events may carry."""

from __future__ import annotations

INDUSTRIES: tuple[str, ...] = (
    "telecom",
    "financial_services",
    "retail",
    "insurance",
    "healthcare",
    "travel_hospitality",
    "quick_service_restaurant",
    "utilities",
    "other",
)
# Ranked as the CSG report ranks them for 2021.
USE_CASES: tuple[str, ...] = (
    "smart_notification",
    "personalized_onboarding",
    "digital_customer_service",
    "smart_acquisition",
    "personalized_retention",
)
CHANNELS: tuple[str, ...] = (
    "email",
    "phone",
    "sms",
    "web",
    "social",
    "in_store",
    "mail",
    "app_push",
    "messaging",
    "chat",
)
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")

KINDS: tuple[str, ...] = (
    "touch",
    "ivr_call",
    "notification_call",
    "message_sent",
    "message_receipt",
    "chatbot_session",
    "message_received",  # 1.1
)
IVR_OUTCOMES: tuple[str, ...] = ("self_served", "transferred_to_agent", "abandoned")
# 1.1: how the caller left the IVR's menus (the outcome says where the call ended up).
IVR_EXIT_REASONS: tuple[str, ...] = (
    "completed",  # the caller finished what the menus offer
    "agent_requested",  # asked for a person (pressed 0, said "agent")
    "hung_up",
    "no_input",  # the IVR timed out waiting
    "retries_exhausted",  # input not understood too many times
    "system_error",
)
NOTIFICATION_CALL_PURPOSES: tuple[str, ...] = ("appointment", "delivery")
MESSAGE_PURPOSES: tuple[str, ...] = (
    "appointment",
    "delivery",
    "order",
    "payment",
    "workflow",
    "compliance",
    "marketing",
    "conversation",
    "other",
)
# Twilio's and Vonage's lifecycle: delivered, or failed / undelivered (1.1), then read signals.
RECEIPT_STATUSES: tuple[str, ...] = (
    "delivered",
    "read",
    "clicked",
    "replied",
    "failed",  # 1.1: the provider could not send it
    "undelivered",  # 1.1: sent, but the carrier could not deliver it
)
READ_STATUSES: tuple[str, ...] = ("read", "clicked", "replied")  # carry a read signal
FAILED_STATUSES: tuple[str, ...] = ("failed", "undelivered")  # may carry an error code
# Plain SMS has no read receipt: only RCS, WhatsApp, Viber and the like send a true one.
# Elsewhere a provider reports a proxy: a link click or a reply.
READ_SIGNALS: tuple[str, ...] = ("read_receipt", "click_proxy", "reply_proxy")

MESSAGE_CHANNELS: tuple[str, ...] = ("sms", "messaging")
CHATBOT_CHANNELS: tuple[str, ...] = ("chat", "messaging", "web", "sms", "app_push")
# 1.1: where a customer's own message reaches a brand.
RECEIVED_CHANNELS: tuple[str, ...] = ("sms", "messaging", "social", "chat")
# 1.1: where a conversation thread pairs a brand's reply with the customer's message.
CONVERSATION_CHANNELS: tuple[str, ...] = ("social", "chat")
