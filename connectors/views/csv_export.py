"""CSV downloads of the connector lists, streamed row by row."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# A spreadsheet evaluates a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = frozenset({"=", "+", "-", "@", "\t", "\r"})


class _Lines:
    """csv.writer's file: write() hands the formatted line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in FORMULA_STARTS else text


def csv_response(
    rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str], name: str
) -> StreamingHttpResponse:
    """`rows` as CSV with `columns` as the header, downloaded as `<name>-<UTC time>.csv`."""
    writer = csv.writer(_Lines())

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow([csv_cell(row.get(column)) for column in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
