"""Voice: IVR duration by month and year, IVR outcomes (containment), IVR escape (callers who
asked for a person, and those left trapped), notification calls.

Calls are all on the phone channel, so the channel filter does not apply here.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cards, charts, context

ctx = context.require("Voice")
both = ctx.filters.both_params()
CALLS = {"channel": "every call is on the phone channel"}
by_year = context.comparison_cards("ivr_duration_by_year", cards.IVR_TIME, ctx, why=CALLS)
if by_year.empty:
    st.info("No IVR call in this period for these filters.")
else:
    context.download(by_year, "ivr_duration_by_year", ctx)
by_month = context.run("ivr_duration_by_month", both, why=CALLS)
context.chart(by_month, lambda f: charts.duration_lines(f, "month"), "ivr_duration_by_month", ctx)

st.subheader("IVR outcomes (self-served = contained)")
outcomes = context.run("ivr_outcomes", both, why=CALLS)
context.chart(
    outcomes,
    lambda f: charts.share_bars(f, "outcome", "IVR outcomes per year"),
    "ivr_outcomes",
    ctx,
)

st.subheader("IVR escape: callers who asked for a person")
st.caption(
    "Trapped: the caller asked for a person (contract 1.1's agent-requested flag) and was not "
    "transferred to an agent. Calls published without the field count as not asking: the last "
    "card says how many calls carry contract 1.1's IVR fields."
)
escape = context.comparison_cards(
    "ivr_escape", cards.IVR_ESCAPE, ctx, why=CALLS, coverage=cards.COVERAGE_IVR
)
context.chart(
    escape,
    lambda f: charts.share_measures(
        f,
        {
            "agent_requested_share": "asked for a person",
            "trapped_share": "trapped (of all calls)",
            "trapped_of_requests": "trapped (of those who asked)",
        },
        "IVR escape per year",
    ),
    "ivr_escape",
    ctx,
    empty="No IVR call in this period for these filters.",
)

st.subheader("Notification calls by purpose")
purposes = context.run("notification_calls_by_purpose", both, why=CALLS)
context.chart(
    purposes,
    lambda f: charts.grouped_bars(f, "purpose", "notification_calls", "year", "Calls"),
    "notification_calls_by_purpose",
    ctx,
    empty="No notification call in this period for these filters.",
)
