"""The drift page's two forms: record the baseline (from where), accept one object's drift."""

from __future__ import annotations

from django import forms

from watch.drift import COMPARED_KINDS
from watch.models import BaselineSource
from watch.observations import ObjectKind


class BaselineRecordForm(forms.Form):
    source = forms.ChoiceField(
        choices=BaselineSource.choices,
        error_messages={
            "required": "Choose where the baseline is read from.",
            "invalid_choice": "Record from a fresh Graph read or from the latest sweep.",
        },
    )


class DriftAcceptForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind, ObjectKind(kind).label) for kind in sorted(COMPARED_KINDS)],
        error_messages={
            "required": "Name the kind of object whose drift to accept.",
            "invalid_choice": "Drift is kept for Exchange connectors, App Proxy connectors and "
            "connector groups only.",
        },
    )
    object_id = forms.CharField(
        max_length=255,
        error_messages={
            "required": "Name the object whose drift to accept.",
            "max_length": "An object id is at most 255 characters.",
        },
    )
