"""CSV downloads for every list: cells a spreadsheet will not run, streamed line by line."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# A spreadsheet evaluates a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Lines:
    """csv.writer's file: write() hands the formatted line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_writer() -> Any:
    """A csv.writer whose writerow() returns the line it formats."""
    return csv.writer(_Lines())


def csv_cell(value: Any) -> str:
    """A value as a safe cell: blank for None, JSON for a dict or list, formulas neutralized."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_download(lines: Iterable[str], *, name: str) -> StreamingHttpResponse:
    """Stream `lines` as `<name>-<UTC time>.csv`, never holding the whole file."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
