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
)
IVR_OUTCOMES: tuple[str, ...] = ("self_served", "transferred_to_agent", "abandoned")
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
RECEIPT_STATUSES: tuple[str, ...] = ("delivered", "read", "clicked", "replied")
# Plain SMS has no read receipt: only RCS, WhatsApp, Viber and the like send a true one.
# Elsewhere a provider reports a proxy: a link click or a reply.
READ_SIGNALS: tuple[str, ...] = ("read_receipt", "click_proxy", "reply_proxy")

MESSAGE_CHANNELS: tuple[str, ...] = ("sms", "messaging")
CHATBOT_CHANNELS: tuple[str, ...] = ("chat", "messaging", "web", "sms", "app_push")
