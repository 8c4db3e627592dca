"""``iocflow extract``: indicators out of files, folders and standard input."""

from __future__ import annotations

import csv
import io
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from iocflow.cli.common import err, fail
from iocflow.exceptions import IocflowError
from iocflow.extract.files import DocumentResult, expand_paths, extract_files, extract_text
from iocflow.extract.engine import parse_types
from iocflow.extract.ioc_finder import merge_ioc_finder
from iocflow.extract.model import Confidence
from iocflow.extract.readers import document_text

RECORD_FIELDS = ("source", "type", "value", "raw", "start", "end", "defanged", "confidence", "reason", "matrices", "parent")


class OutputFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


def extract_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursive) or - for standard input.")] = None,  # type: ignore[assignment]
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="json: ioc-finder shape; jsonl/csv: one record per indicator; table.")] = OutputFormat.json,
    types: Annotated[str | None, typer.Option("--types", "-t", help="Comma-separated indicator types, e.g. ipv4,domain,sha256.")] = None,
    no_refang: Annotated[bool, typer.Option("--no-refang", help="Keep matches literal: do not undo defanging.")] = False,
    min_confidence: Annotated[Confidence, typer.Option("--min-confidence", help="Leave out hits below this confidence.")] = Confidence.MEDIUM,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes for many files.")] = 1,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")] = None,
) -> None:
    """Extract indicators of compromise from text, HTML and PDF reports."""
    sources = paths or ["-"]
    try:
        kinds = parse_types(types.split(",")) if types else None
    except IocflowError as exc:
        raise fail(str(exc)) from None
    results: list[DocumentResult] = []
    if "-" in sources:
        data = sys.stdin.buffer.read()
        try:
            results.append(extract_text("-", document_text(data), kinds, not no_refang, min_confidence))
        except IocflowError as exc:
            results.append(DocumentResult("-", error=f"-: {exc}"))
    files = list(expand_paths(p for p in sources if p != "-"))
    missing = [p for p in files if not p.exists()]
    for p in missing:
        err.print(f"[red]error:[/red] {p}: no such file or directory")
    files = [p for p in files if p.exists()]
    if len(files) > 1:
        with Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err, transient=True,
        ) as progress:
            task = progress.add_task("extracting", total=len(files))
            results += extract_files(
                files, types=kinds, refang=not no_refang, floor=min_confidence, workers=workers,
                on_done=lambda _: progress.advance(task),
            )
    else:
        results += extract_files(files, types=kinds, refang=not no_refang, floor=min_confidence)
    failed = [r for r in results if r.error]
    for r in failed:
        err.print(f"[red]error:[/red] {r.error}")
    done = [r for r in results if not r.error]
    if not done:
        raise typer.Exit(2)
    rendered = _render(done, fmt, min_confidence)
    if output is not None:
        output.write_text(rendered, encoding="utf-8")
    elif fmt is OutputFormat.table:
        Console().print(_table(done, min_confidence))
    else:
        sys.stdout.write(rendered)
    if failed or missing:
        raise typer.Exit(2)


def _records(results: list[DocumentResult], floor: Confidence) -> list[dict[str, object]]:
    rows = []
    for r in results:
        for ind in r.indicators:
            if ind.confidence.rank >= floor.rank:
                rows.append({"source": r.source, **ind.as_dict()})
    return rows


def _render(results: list[DocumentResult], fmt: OutputFormat, floor: Confidence) -> str:
    if fmt is OutputFormat.json:
        merged = merge_ioc_finder(r.ioc_finder for r in results)
        return orjson.dumps(merged, option=orjson.OPT_INDENT_2).decode() + "\n"
    rows = _records(results, floor)
    if fmt is OutputFormat.jsonl:
        return "".join(orjson.dumps(row).decode() + "\n" for row in rows)
    if fmt is OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=RECORD_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            row = dict(row)
            row["matrices"] = ";".join(row.get("matrices", []))  # type: ignore[arg-type]
            writer.writerow(row)
        return buf.getvalue()
    return "".join(f"{row['type']}\t{row['value']}\t{row['confidence']}\t{row['source']}\n" for row in rows)


def _table(results: list[DocumentResult], floor: Confidence) -> Table:
    many = len(results) > 1
    table = Table("type", "value", "confidence", "defanged", *(["source"] if many else []), title="indicators")
    for row in _records(results, floor):
        cells = [str(row["type"]), str(row["value"]), str(row["confidence"]), "yes" if row["defanged"] else ""]
        table.add_row(*cells, *([str(row["source"])] if many else []))
    return table
