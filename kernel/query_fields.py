"""Query-string fields every list shares, bounded so no typed value can reach a 500.

A date outside DATE_RANGE or a page past MAX_PAGE is a field error (400 on a page, 422 for htmx,
400 JSON on the API), never an OverflowError deep in a selector.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

# The audit log and Intune's audit events hold nothing outside these years.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
MAX_PAGE = 100_000


def date_field(label: str) -> forms.DateField:
    """An optional YYYY-MM-DD day between EARLIEST_DATE and LATEST_DATE."""
    message = f"Enter a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "min": f"{EARLIEST_DATE}", "max": f"{LATEST_DATE}"}
        ),
        validators=[
            MinValueValidator(EARLIEST_DATE, message=message),
            MaxValueValidator(LATEST_DATE, message=message),
        ],
    )


def page_field(**kwargs: object) -> forms.IntegerField:
    """An optional page number from 1 to MAX_PAGE."""
    return forms.IntegerField(
        label="Page", required=False, min_value=1, max_value=MAX_PAGE, **kwargs
    )
