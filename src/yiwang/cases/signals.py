"""Subscriptions of the cases app to other apps' events (connected from ``CasesConfig.ready``)."""
