"""Convert ICD-9-CM claim records to ICD-10-CM / ICD-10-PCS with the CMS General Equivalence
Mappings over Arrow record batches, flagging every conversion that needs human judgment.

The same engine as the ``crosswalk`` command line: a batch gets exactly the cells ``crosswalk
convert`` writes for its rows.
"""

from os import PathLike
from typing import Any, Iterable, Iterator, Optional, Sequence, Union, final

import pyarrow

__version__: str

_Columns = Union[str, int, Sequence[Union[str, int]], None]
_Path = Union[str, PathLike]
# An iterable of RecordBatches, a Table, one RecordBatch, or any Arrow stream (a
# RecordBatchReader, a Polars or pandas frame).
_Batches = Union[Iterable[pyarrow.RecordBatch], pyarrow.Table, pyarrow.RecordBatch, Any]

class CrosswalkError(Exception):
    """A batch, mapping table, code set or decisions file that cannot be converted or read; the
    message says which and why, as the command line does."""

@final
class Converter:
    """A conversion's options, resolved once (mapping tables, code sets and decisions loaded).

    Every keyword is the ``crosswalk convert`` option of the same name, with the same default:
    ``dx``/``proc`` (names, globs or 1-based numbers; default: detected from the columns),
    ``version_col``, ``date_col``, ``companion``, ``key``, ``restore_zeros``, ``long``,
    ``no_add_rows``, ``choose`` (``first``, ``first-billable``, ``keep``, ``fail``),
    ``unmapped`` (``keep``, ``blank``), ``dots`` (None: as the input; True: dotted; False: not),
    ``flags_column`` (its name; None: no flags column), ``flexible``, ``gems`` (a directory of GEM
    files), ``gem`` (``SYSTEM=FILE``), ``code_set_year``, ``code_set``, ``decisions`` (filled-in
    audits or ``system,code,decision`` files). ``file_name`` tells MIMIC diagnosis tables from
    procedure tables, as the input's name does on the command line. ``threads`` converting
    threads per batch (default 1: Spark and Polars run batches in parallel themselves).
    ``name`` names the batches in error messages and the summary.

    A converter pickles by its options (Spark ships it to executors that way: the files it
    names must be readable there too); each copy counts what it converts in its own
    ``summary()``.
    """

    def __init__(
        self,
        *,
        dx: _Columns = None,
        proc: _Columns = None,
        version_col: _Columns = None,
        date_col: Optional[str] = None,
        companion: _Columns = None,
        key: _Columns = None,
        restore_zeros: _Columns = None,
        long: bool = False,
        no_add_rows: bool = False,
        choose: str = "first",
        unmapped: str = "keep",
        dots: Optional[bool] = None,
        flags_column: Optional[str] = "crosswalk_flags",
        flexible: bool = False,
        gems: Optional[_Path] = None,
        gem: _Columns = None,
        code_set_year: Optional[int] = None,
        code_set: Optional[_Path] = None,
        decisions: Union[_Path, Sequence[_Path], None] = None,
        file_name: Optional[str] = None,
        threads: int = 1,
        name: str = "batches",
    ) -> None: ...
    def convert_batches(self, batches: _Batches) -> Batches:
        """Convert the batches, yielding the converted ones: the input's columns, typed as they
        are, then the flags column (rows a long layout adds for a cluster follow their row).
        Code columns must be text. Rows are numbered on from one batch to the next, and leading
        zeros are judged on the first batch; each batch is otherwise converted on its own.
        Usable as is in ``df.mapInArrow(conv.convert_batches, schema)``."""
    def audit_batches(self, batches: _Batches) -> Batches:
        """Convert the batches, yielding the audit's lines (the CSV audit's columns, all text):
        a ``code`` row before the first occurrence of each code in a batch, then its
        ``occurrence`` rows."""
    def output_schema(self, schema: pyarrow.Schema) -> pyarrow.Schema:
        """The schema ``convert_batches`` yields for input of ``schema``; raises
        ``CrosswalkError`` when such input cannot be converted (no code column, a code column
        that is not text, a column type that does not come back from its text: binary, nested,
        durations)."""
    def audit_schema(self, schema: pyarrow.Schema) -> pyarrow.Schema:
        """The schema ``audit_batches`` yields for input of ``schema`` (its key columns found as
        ``convert`` finds them); raises as ``output_schema``."""
    def summary(self) -> dict[str, Any]:
        """What this object converted, as ``crosswalk convert --summary`` writes it."""

@final
class Batches(Iterator[pyarrow.RecordBatch]):
    """The batches ``convert_batches`` or ``audit_batches`` yields, converted as they are read."""

    def __iter__(self) -> Batches: ...
    def __next__(self) -> pyarrow.RecordBatch: ...

def _restore(kwargs: dict[str, Any]) -> Converter:
    """A converter made with these keyword arguments (what unpickling calls)."""

def map(
    codes: Union[str, Sequence[str]],
    system: str = "icd9-dx",
    *,
    gems: Optional[_Path] = None,
    gem: _Columns = None,
    code_set_year: Optional[int] = None,
    code_set: Optional[_Path] = None,
) -> list[dict[str, Any]]:
    """Look codes up as ``crosswalk map --json`` does: one dict per code, with its title,
    status, reason and every alternative (``system``: icd9-dx, icd9-proc, icd10-cm,
    icd10-pcs)."""
