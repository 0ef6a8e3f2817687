"""Recurring billing: staff keep the organization's plans and put customers on them
(subscriptions: changed, paused, resumed, ended). Periods, bill dates and proration are
domain/billing/proration.py."""
