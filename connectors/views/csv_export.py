"""CSV downloads of the connector lists, streamed row by row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.http import StreamingHttpResponse

from kernel.csv_export import csv_cell, csv_download, csv_writer


def csv_response(
    rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str], name: str
) -> StreamingHttpResponse:
    """`rows` as CSV with `columns` as the header, downloaded as `<name>-<UTC time>.csv`."""
    writer = csv_writer()

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow([csv_cell(row.get(column)) for column in columns])

    return csv_download(lines(), name=name)
