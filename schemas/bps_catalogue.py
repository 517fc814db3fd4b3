"""The BPS datasets the pipeline uses, as data.

Each :class:`BpsDataset` says where a table comes from (a WebAPI variable, or a bundled file),
which slice of it is wanted (turvar, turtahun, years), the unit BPS publishes it in and how to
scale it to the output unit. The bundled snapshot's manifest and README are derived from the
same entries, so a source is described once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SNAPSHOT_DIR = "raw/bps/snapshot"
SNAPSHOT_FILES_DIR = f"{SNAPSHOT_DIR}/files"
SNAPSHOT_MANIFEST = f"{SNAPSHOT_DIR}/manifest.jsonl"

# Published unit (as written in a response or file) -> factor to reach billion IDR (miliar rupiah).
# BPS spells "miliar" both ways; titles of var 533 say "Milyar" while its response says "Juta".
UNIT_TO_BILLION_IDR: dict[str, float] = {
    "juta rupiah": 1e-3,
    "miliar rupiah": 1.0,
    "milyar rupiah": 1.0,
    "triliun rupiah": 1e3,
}
PERSONS_UNITS: dict[str, float] = {"orang": 1.0, "jiwa": 1.0, "ribu orang": 1e3, "ribu jiwa": 1e3}

PROVINCIAL_YEARS: tuple[int, ...] = (2019, 2020, 2021, 2022, 2023, 2024)


class UnknownUnitError(ValueError):
    """A table arrived in a unit the catalogue does not know: scaling it would be a guess."""


def scale_factor(unit: str, known: dict[str, float], dataset_key: str) -> float:
    """Factor from ``unit`` to the output unit; refuses units the catalogue does not list."""
    norm = " ".join(str(unit).strip().lower().split())
    if norm not in known:
        raise UnknownUnitError(
            f"dataset {dataset_key}: unit {unit!r} is not one the catalogue knows "
            f"({sorted(known)}). Check the BPS table; if the unit really changed, add it with its "
            "scaling factor to schemas/bps_catalogue.py."
        )
    return known[norm]


@dataclass(frozen=True)
class BpsDataset:
    key: str
    description: str
    domain: str  # "0000" national, "6400" Kalimantan Timur
    var: int | None  # WebAPI variable id; None for a bundled file table
    file: str | None  # bundled file, relative to the storage root
    unit: str  # as published
    output_unit: str
    years: tuple[int, ...]
    source: str
    vintage: str
    kind: str  # "bundled-webapi" | "bundled-file"
    turvar: int | None = None  # derived variable (column) wanted
    turtahun_label: str | None = None  # sub-period wanted, by label (ids differ between tables)
    turtahun_id: int | None = None  # the id seen in the bundled response, for information
    fallback: str | None = None  # key of the dataset that stands in when this one is unavailable
    extra: dict[str, str] = field(default_factory=dict)


_S2 = (
    "BPS Sakernas August tabulation (column PYB) in github.com/baniadamtampubolon/dashboard-tenaga-kerja "
    "Database/PYB-2018-2025-ver2.xlsx (HEAD 7791911e3a93; file last changed in dc0c1e893582)"
)

DATASETS: tuple[BpsDataset, ...] = (
    BpsDataset(
        key="pdrb_adhk_province",
        description="PDRB at constant 2010 prices by province (expenditure side, total PDRB, annual)",
        domain="0000",
        var=533,
        file=f"{SNAPSHOT_DIR}/webapi/domain0000_var533_pdrb_adhk_pengeluaran_provinsi_2010_2024Q2.json",
        unit="Juta Rupiah",
        output_unit="miliar rupiah",
        years=(2019, 2020, 2021, 2022, 2023),
        source=(
            "BPS WebAPI var 533 '[SERI 2010] 2. PDRB Atas Dasar Harga Konstan Menurut Pengeluaran (2010=100)', "
            "verbatim response copied from github.com/zakiibnu723/pdrb-map "
            "public/dataset0/RAW_dataset/pdrb_konstan_prov.json (commit 917985c1)"
        ),
        vintage="BPS response with data to 2024 Q2; no last_update in the response",
        kind="bundled-webapi",
        turvar=1550,
        turtahun_label="Tahunan",
        turtahun_id=35,
        fallback="pdrb_adhk_province_file",
        extra={
            "unit_in_other_titles": "Milyar Rupiah",
            "vintage_id": "data hingga Triwulan II 2024, respons tanpa last_update; salinan respons WebAPI "
            "dari github.com/zakiibnu723/pdrb-map commit 917985c1",
        },
    ),
    BpsDataset(
        key="pdrb_adhk_province_file",
        description="PDRB at constant 2010 prices by province, billion IDR (2024: 38 provinces)",
        domain="0000",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/grdp_adhk2010_by_province.csv",
        unit="Miliar Rupiah",
        output_unit="miliar rupiah",
        years=(2024,),
        source=(
            "2019-2023: from the var 533 response; 2024: sum of the four 2024 quarters of pdrb_adhk_milyar in "
            "github.com/yafiodo/dashboard-investasi-pdrb src/data/merged_investasi_pdrb.json (commit 18d0ba47), "
            "third-party compiled"
        ),
        vintage="2024 quarters as compiled by a third party (commit 18d0ba47)",
        kind="bundled-file",
    ),
    BpsDataset(
        key="pdb_adhk_national",
        description="National PDB at constant 2010 prices, billion IDR",
        domain="0000",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/national_pdb_adhk2010.csv",
        unit="Miliar Rupiah",
        output_unit="miliar rupiah",
        years=(2021, 2022, 2023),
        source="BPS releases of PDB at constant 2010 prices as reported by the press (shared/reference/README.md)",
        vintage="2022 revised (first release 11,710,400); 2019, 2020 and 2024 not bundled",
        kind="bundled-file",
    ),
    BpsDataset(
        key="employed_province",
        description="Employed persons aged 15+ by province, Sakernas August (00 = Indonesia)",
        domain="0000",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/employed_aug_by_province.csv",
        unit="orang",
        output_unit="orang",
        years=PROVINCIAL_YEARS,
        source=_S2 + " = BPS 'Penduduk Berumur 15 Tahun Ke Atas Menurut Provinsi dan Jenis Kegiatan'",
        vintage="2019 is the revised (re-weighted) series; 2019-2022 on 34 provinces, 2023-2024 on 38",
        kind="bundled-file",
    ),
    BpsDataset(
        key="employed_kabkota",
        description="Employed persons aged 15+ in Kaltim's 10 regencies/cities, Sakernas August",
        domain="6400",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/kabkota_employed_aug.csv",
        unit="orang",
        output_unit="orang",
        years=PROVINCIAL_YEARS,
        source=_S2,
        vintage="2019 revised series; sums exactly to the province",
        kind="bundled-file",
    ),
    BpsDataset(
        key="pdrb_adhk_kabkota",
        description="PDRB at constant 2010 prices of Kaltim's regencies/cities, billion IDR",
        domain="6400",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/kabkota_grdp_adhk2010.csv",
        unit="Miliar Rupiah",
        output_unit="miliar rupiah",
        years=(2020, 2021, 2022, 2023, 2024),
        source="BPS Kaltim figures printed in triliun (x1000) by ANTARA and local press; per-row sources in the file",
        vintage="mixed print vintages (see shared/reference/kaltim/SOURCES.md); all 10 for 2020 and 2024 only",
        kind="bundled-file",
    ),
    BpsDataset(
        key="employed_by_sector_kaltim",
        description="Kaltim employed persons by the 17 PDRB industry groups, Sakernas August",
        domain="6400",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/kaltim_employed_by_sector_aug.csv",
        unit="orang",
        output_unit="orang",
        years=PROVINCIAL_YEARS,
        source=_S2 + " columns lapus_*",
        vintage="sums exactly to the total every year",
        kind="bundled-file",
    ),
    BpsDataset(
        key="hours_bands_province",
        description="Employed persons by weekly-hours band, nation and 38 provinces, Sakernas August",
        domain="0000",
        var=None,
        file=f"{SNAPSHOT_FILES_DIR}/hours_bands_aug_by_province.csv",
        unit="orang",
        output_unit="orang",
        years=PROVINCIAL_YEARS,
        source=_S2 + " columns jam_*",
        vintage="only the split at 35 hours is comparable across years (definition_check column)",
        kind="bundled-file",
    ),
)


def dataset(key: str) -> BpsDataset:
    for d in DATASETS:
        if d.key == key:
            return d
    raise KeyError(f"no BPS dataset {key!r} in schemas/bps_catalogue.py")


def webapi_datasets() -> tuple[BpsDataset, ...]:
    return tuple(d for d in DATASETS if d.var is not None)
