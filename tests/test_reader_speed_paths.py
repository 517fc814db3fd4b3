"""The reader's shortcuts and caches give exactly what the plain computations give."""

from __future__ import annotations

import io
import random
import string
import zipfile
from datetime import date, datetime

import pandas as pd

from schemas.submission import ALIASES, SUBMISSION_FIELDS, header_lookup, normalise_header
from tasks import submission_readers as R


def _texts() -> list[str]:
    rnd = random.Random(7)
    alphabet = string.printable + "éÉñü—–…\u00a0\u2028ﬁ²①"
    texts = [f.label_id for f in SUBMISSION_FIELDS] + [f.label_en for f in SUBMISSION_FIELDS]
    texts += [a for aliases in ALIASES.values() for a in aliases] + list(header_lookup())
    texts += ["", " ", "  NIB  ", "Pekerja PKWTT (Tetap)", "Kode [KBLI]", "Petunjuk", "PETUNJUK "]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) for _ in range(3_000)]
    texts += ["".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 40))) for _ in range(3_000)]
    return texts


def test_normalise_is_the_schema_normalisation() -> None:
    for text in _texts():
        assert R._normalise(text) == normalise_header(text), repr(text)


def _plain_score(cells: list[object]) -> int:
    return len({f for f in (R.match_header(c) for c in cells) if f})


def test_header_score_is_match_header_per_cell() -> None:
    rnd = random.Random(11)
    pool: list[object] = [*_texts()[:400], None, 0, -5, 10**20, 1.5, 1e20, float("nan"), float("inf")]
    pool += [True, False, datetime(2025, 9, 3), datetime(2025, 9, 3, 1, 2, 3, 4), date(2025, 9, 3), b"NIB"]
    for _ in range(2_000):
        cells = [rnd.choice(pool) for _ in range(rnd.randint(0, 12))]
        assert R._header_score(cells) == _plain_score(cells), cells


def _plain_layout(file: str, sheet: str | None, header_row: int, cells: list[object]) -> R._Layout:
    """The header mapping as written before it was cached (the reference)."""
    columns: dict[int, str] = {}
    warnings: list[dict] = []
    w, we = R._where(file, sheet), R._where_en(file, sheet)
    for pos, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        name = R.match_header(cell)
        shown = str(cell).strip()[:80]
        shown_safe = R.neutralise(shown)
        if name is None:
            hint = R._suggest(shown)
            tail_id = (
                f" — maksud Anda '{hint}'?" if hint else ". Hapus kolom itu atau pakai judul dari templat."
            )
            tail_en = f" — did you mean '{hint}'?" if hint else ". Remove it or use a template header."
            warnings.append(
                R._file_error(
                    file,
                    "unknown_column",
                    f"Kolom '{shown_safe}' di {w} tidak dikenal dan diabaikan{tail_id}",
                    f"Column '{shown_safe}' in {we} is not recognised and was ignored{tail_en}",
                    "warning",
                )
            )
        elif name in columns.values():
            warnings.append(
                R._file_error(
                    file,
                    "duplicate_column",
                    f"Kolom '{R._label(name)}' muncul lebih dari sekali di {w}; hanya kolom pertama yang "
                    f"dibaca ('{shown_safe}' diabaikan). Hapus kolom rangkap.",
                    f"Column '{R.FIELDS[name].label_en}' appears more than once in {we}; only the first is read.",
                    "warning",
                )
            )
        else:
            columns[pos] = name
    missing = [f for f in SUBMISSION_FIELDS if f.required and f.name not in columns.values()]
    if missing:
        rej = R._rejected(
            "missing_columns",
            file,
            sheet,
            labels_id=", ".join(f"'{f.label_id}'" for f in missing),
            labels_en=", ".join(f"'{f.label_en}'" for f in missing),
        )
        rej.notes = warnings
        raise rej
    return R._Layout(header_row, columns, warnings)


def _outcome(fn: object, *args: object) -> object:
    try:
        layout = fn(*args)  # type: ignore[operator]
    except R.FileRejected as rej:
        return ("rejected", rej.code, rej.reason_id, rej.reason_en, rej.notes)
    return (layout.header_row, list(layout.columns.items()), layout.warnings)


def test_layout_cache_gives_each_file_its_own_messages() -> None:
    rnd = random.Random(5)
    labels = [f.label_id for f in SUBMISSION_FIELDS]
    pool: list[object] = [
        *labels,
        *labels[:5],
        "Penjualan Bersi",
        "=cmd()",
        "Catatan",
        "",
        None,
        1,
        1.0,
        True,
    ]
    rows = [labels, labels + ["Catatan"], labels[:3], [1, 1.0, True, *labels]]
    rows += [[rnd.choice(pool) for _ in range(rnd.randint(0, 35))] for _ in range(300)]
    for i, cells in enumerate(rows):
        for file, sheet in ((f"a{i}.xlsx", "Data"), (f"b{i}.csv", None)):
            for _ in range(2):  # the second time from the cache
                assert _outcome(R._layout, file, sheet, 3, list(cells)) == _outcome(
                    _plain_layout, file, sheet, 3, list(cells)
                )


def test_part_verdicts_cached_by_content() -> None:
    plain = b'<worksheet><sheetData><row r="1"><c r="A1" t="n"><v>1</v></c></row></sheetData></worksheet>'
    formula = plain.replace(b"<v>1</v>", b"<f>1+1</f><v>2</v>")
    for _ in range(2):
        assert R._by_content(R._calamine_unsure, R._calamine_unsure_cached, plain) is False
        assert R._by_content(R._calamine_unsure, R._calamine_unsure_cached, formula) is True
    styles_ok = (
        b'<styleSheet><numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts></styleSheet>'
    )
    # "ap" is a date format to one library's rule and not to the other's.
    styles_bad = styles_ok.replace(b"yyyy-mm-dd", b"ap")
    assert R._date_rules_agree(b"yyyy-mm-dd") and not R._date_rules_agree(b"ap")
    for _ in range(2):
        assert R._by_content(R._styles_agree, R._styles_agree_cached, styles_ok) is True
        assert R._by_content(R._styles_agree, R._styles_agree_cached, styles_bad) is False


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _read(data: bytes, name: str) -> object:
    zf = zipfile.ZipFile(io.BytesIO(data))
    try:
        return R._member(zf, zf.getinfo(name), data)
    except Exception as exc:
        return type(exc)


def _plain_read(data: bytes, name: str) -> object:
    zf = zipfile.ZipFile(io.BytesIO(data))
    try:
        return zf.read(name)
    except Exception as exc:
        return type(exc)


def test_member_cache_reads_what_zipfile_reads() -> None:
    sheet = b"<worksheet>" + b"<row/>" * 500 + b"</worksheet>"
    other = sheet.replace(b"<row/>", b"<col/>", 1)
    first = _zip({"a.xml": sheet, "b.xml": other})
    renamed = _zip({"c.xml": sheet})  # same compressed bytes under another name
    # The same compressed bytes with a wrong CRC in the central directory: zipfile refuses them.
    crc = zipfile.ZipFile(io.BytesIO(renamed)).getinfo("c.xml").CRC.to_bytes(4, "little")
    central = renamed.rindex(b"PK\x01\x02")
    bad_crc = renamed[:central] + renamed[central:].replace(crc, bytes(4), 1)
    # A local header whose name differs from the central directory's: zipfile refuses it too.
    bad_name = renamed.replace(b"c.xml", b"d.xml", 1)
    cases = [(first, "a.xml"), (first, "b.xml"), (renamed, "c.xml"), (bad_crc, "c.xml"), (bad_name, "c.xml")]
    for _ in range(2):  # the second time from the cache
        for data, name in cases:
            assert _read(data, name) == _plain_read(data, name), name
    assert _read(first, "a.xml") == sheet and _read(first, "b.xml") == other
    assert _read(bad_crc, "c.xml") is zipfile.BadZipFile and _read(bad_name, "c.xml") is zipfile.BadZipFile


def test_text_only_sheets_read_alike_both_ways(monkeypatch) -> None:
    from openpyxl import Workbook

    labels = [f.label_id for f in SUBMISSION_FIELDS]
    wb = Workbook()
    wb.active.title = "Kode"
    for i in range(40):  # text only, no header: skipped
        wb["Kode"].append([f"64{i:02d} — Kota {i}", "", "A — Pertanian"])
    data = wb.create_sheet("Data")  # text only, with a header under a title row
    data.append(["LAPORAN"])
    data.append(labels)
    data.append(["9100000000005", "PT Teks", *["12" for _ in labels[2:]]])
    buf = io.BytesIO()
    wb.save(buf)
    files = {"a.xlsx": buf.getvalue(), "b.xlsx": buf.getvalue()}
    fast = R.read_bytes_as_period(files)
    monkeypatch.setattr(R, "USE_CALAMINE", False)
    general = R.read_bytes_as_period(files)
    assert len(fast.rows) == 2
    pd.testing.assert_frame_equal(fast.rows, general.rows)
    pd.testing.assert_frame_equal(fast.cell_errors, general.cell_errors)
    pd.testing.assert_frame_equal(fast.file_errors, general.file_errors)


def _plain_unsure(xml: bytes) -> bool:
    if b"\r" in xml:
        return True
    if any(tag in xml for tag in R._FORMULA_HINTS) and R._FORMULA_TAG.search(xml):
        return True
    if any(v in xml for v in R._TYPE_HINTS) and R._ERROR_OR_DATE_CELL.search(xml):
        return True
    return b"_x" in xml and R._ESCAPE.search(xml) is not None


def test_unsure_is_the_plain_check() -> None:
    rnd = random.Random(3)
    bits = [b"<c r='A1'>", b"<f>", b"<f ", b"<f/>", b"<x:f>", b":f ", b"f/", b"f>", b"f ", b"<formula1>", b' t="e"',
            b" t='d'", b'"e\'', b"_x000D_", b"_x", b"\r", b"<v>1</v>", b"</c>", b"ref", b"x", b" "]  # fmt: skip
    for _ in range(5_000):
        xml = b"".join(rnd.choice(bits) for _ in range(rnd.randint(0, 12)))
        assert R._calamine_unsure(xml) == _plain_unsure(xml), xml
