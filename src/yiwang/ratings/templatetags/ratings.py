"""Template filters for 好差评 pages: percentages, scores, dictionary look-ups."""

from django import template

from yiwang.ratings.reports import percent
from yiwang.ratings.reports import score as format_score

register = template.Library()


@register.filter
def pct(value):
    return percent(value)


@register.filter
def score(value):
    return format_score(value)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(int(key), 0)
    except (AttributeError, TypeError, ValueError):
        return ""
