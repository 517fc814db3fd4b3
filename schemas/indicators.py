"""Output schemas of the BPS stage: tidy BPS tables and the provincial / kab/kota productivity indicators.

Each column is a :class:`schemas.fields.Field` defined once; the pyarrow schemas (units and
descriptions in field metadata, ``schema_version`` in file metadata) and the validation suites are
derived from these lists.
"""

from __future__ import annotations

from schemas.boundaries import BOUNDARIES
from schemas.fields import Field, pa_schema

SCHEMA_VERSION = "1"

GRDP_TABLE_REL = "processed/bps/grdp_adhk2010_by_region.parquet"
EMPLOYED_TABLE_REL = "processed/bps/employed_by_region.parquet"
SECTOR_TABLE_REL = "processed/bps/kaltim_employment_by_sector.parquet"
PROVINCIAL_REL = "processed/indicators/provincial_productivity.parquet"
KABKOTA_REL = "processed/indicators/kabkota_productivity.parquet"

# region_level values
NATIONAL = "national"
PROVINCE = "province"
PROVINCE_SUM = "province_sum"  # BPS "34 PROVINSI" row of var 533: the sum of provinces, not the PDB
KABKOTA = "kabkota"
REGION_LEVELS = (NATIONAL, PROVINCE, PROVINCE_SUM, KABKOTA)
PRELIMINARY_STATUSES = ("sementara", "sangat sementara", "sangat sangat sementara")

YEAR = Field(
    "year", "int64", "Reference year", unit="year", label_id="Tahun", label_en="Year", required=True,
    nullable=False, min_value=2000, max_value=2100,
)  # fmt: skip
REGION_CODE = Field(
    "region_code",
    "string",
    "BPS region code: '00' Indonesia, 2-digit province, 4-digit Kaltim regency/city; "
    "'99' the BPS sum of the 34 provinces (only in the PDRB table)",
    label_id="Kode wilayah",
    label_en="Region code",
    required=True,
    nullable=False,
    regex=r"^(?:\d{2}|\d{4})$",
)
REGION_NAME = Field(
    "region_name", "string", "Region name as in the BPS code list", label_id="Wilayah", label_en="Region",
    required=True, nullable=False,
)  # fmt: skip
REGION_LEVEL = Field(
    "region_level", "string", "national, province, province_sum (BPS sum row) or kabkota",
    required=True, nullable=False, allowed=REGION_LEVELS,
)  # fmt: skip
BOUNDARY = Field(
    "boundary",
    "string",
    "Province set the row's territory is defined on: '34' (before the 2022 Papua split) or '38'. "
    "Kaltim's regencies/cities did not change and carry '38'.",
    required=True,
    nullable=False,
    allowed=BOUNDARIES,
)
GRDP = Field(
    "grdp_adhk2010_billion_idr",
    "float64",
    "PDRB (national: PDB) at constant 2010 prices",
    unit="billion IDR (miliar rupiah), constant 2010 prices",
    label_id="PDRB ADHK 2010 (miliar rupiah)",
    label_en="GRDP at constant 2010 prices (billion IDR)",
    min_value=0,
)
EMPLOYED = Field(
    "employed_persons",
    "int64",
    "Employed persons aged 15+, Sakernas August",
    unit="persons",
    label_id="Penduduk bekerja (orang)",
    label_en="Employed persons",
    min_value=0,
)
UNIT_PUBLISHED = Field(
    "unit_published", "string", "Unit the source published the value in, before scaling", required=True,
    nullable=False,
)  # fmt: skip
SOURCE = Field("source", "string", "Where the figure comes from", required=True, nullable=False)
VAR = Field("var", "int64", "BPS WebAPI variable id (null for a bundled file table)")
DOMAIN = Field("domain", "string", "BPS WebAPI domain ('0000' national, '6400' Kaltim)", nullable=False)
VINTAGE = Field(
    "vintage", "string", "Vintage of the figure: retrieval time / last_update of a response, or the file's "
    "vintage note", required=True, nullable=False,
)  # fmt: skip
STATUS = Field(
    "status",
    "string",
    "BPS preliminary status of the year (sementara, sangat sementara, sangat sangat sementara); "
    "null when the source marks none",
    allowed=PRELIMINARY_STATUSES,
)

GRDP_FIELDS = (
    YEAR, REGION_CODE, REGION_NAME, REGION_LEVEL, BOUNDARY, GRDP, UNIT_PUBLISHED, SOURCE, VAR, DOMAIN,
    VINTAGE, STATUS,
)  # fmt: skip
EMPLOYED_FIELDS = (
    YEAR, REGION_CODE, REGION_NAME, REGION_LEVEL, BOUNDARY,
    Field(EMPLOYED.name, "int64", EMPLOYED.description, unit=EMPLOYED.unit, label_id=EMPLOYED.label_id,
          label_en=EMPLOYED.label_en, required=True, nullable=False, min_value=0),
    SOURCE, VINTAGE,
)  # fmt: skip
GRDP_SCHEMA = pa_schema(
    GRDP_FIELDS, "bps_grdp_adhk2010_by_region", SCHEMA_VERSION,
    "PDRB/PDB at constant 2010 prices by region and year, tidy and validated",
)  # fmt: skip
EMPLOYED_SCHEMA = pa_schema(
    EMPLOYED_FIELDS, "bps_employed_by_region", SCHEMA_VERSION,
    "Employed persons (Sakernas August) by region and year, tidy and validated",
)  # fmt: skip

SECTOR_FIELDS = (
    YEAR,
    Field("region_code", "string", "BPS province code ('64')", required=True, nullable=False),
    Field(
        "sector_code",
        "string",
        "PDRB industry group (17 groups: A..L, M-N, O, P, Q, R-U)",
        label_id="Lapangan usaha",
        required=True,
        nullable=False,
    ),  # fmt: skip
    Field("sector_name", "string", "Industry group name as in the source", required=True, nullable=False),
    Field(
        EMPLOYED.name,
        "int64",
        EMPLOYED.description,
        unit="persons",
        label_id=EMPLOYED.label_id,
        required=True,
        nullable=False,
        min_value=0,
    ),  # fmt: skip
    Field(
        "share_pct",
        "float64",
        "Share of the year's employed persons in the group",
        unit="percent",
        label_id="Persentase (%)",
        min_value=0,
        max_value=100,
    ),  # fmt: skip
    SOURCE,
    VINTAGE,
)
SECTOR_SCHEMA = pa_schema(
    SECTOR_FIELDS, "bps_kaltim_employment_by_sector", SCHEMA_VERSION,
    "Kaltim employed persons by the 17 PDRB industry groups, Sakernas August, with shares",
)  # fmt: skip

PRODUCTIVITY = Field(
    "productivity_million_idr_per_worker",
    "float64",
    "Labour productivity = PDRB ADHK 2010 x 1000 / employed persons (national: PDB / national employed)",
    unit="million IDR per worker per year, constant 2010 prices",
    label_id="Produktivitas tenaga kerja (juta rupiah per pekerja)",
    label_en="Labour productivity (million IDR per worker)",
    min_value=0,
)
INDICATOR_FIELDS = (
    YEAR,
    REGION_CODE,
    REGION_NAME,
    BOUNDARY,
    GRDP,
    EMPLOYED,
    PRODUCTIVITY,
    Field(
        "productivity_growth_pct",
        "float64",
        "Change of productivity from the previous year, only when "
        "the region's territory is the same in both years",
        unit="percent",
        label_id="Pertumbuhan produktivitas (%)",
    ),  # fmt: skip
    Field(
        "rank",
        "int64",
        "Rank by productivity among the provinces (kab/kota: within Kaltim) of the year; "
        "1 = highest; null for Indonesia and where productivity is missing",
        label_id="Peringkat",
        min_value=1,
    ),  # fmt: skip
    Field("rank_of", "int64", "Number of regions ranked that year", min_value=1),
    Field("grdp_source", "string", "Source of the PDRB/PDB figure"),
    Field("grdp_var", "int64", "BPS WebAPI var of the PDRB figure (null for a file)"),
    Field("grdp_vintage", "string", "Vintage / retrieval of the PDRB figure"),
    Field("grdp_status", "string", "BPS preliminary status of the PDRB year", allowed=PRELIMINARY_STATUSES),
    Field("employment_source", "string", "Source of the employment figure"),
    Field("employment_vintage", "string", "Vintage of the employment figure"),
    Field(
        "employment_regions",
        "string",
        "Employment codes summed into this row when harmonised to the "
        "PDRB boundary (e.g. '94+95+96+97'); null when taken as published",
    ),  # fmt: skip
    Field(
        "note",
        "string",
        "Why a value is missing or how it was derived (Bahasa Indonesia)",
        label_id="Catatan",
    ),  # fmt: skip
)
PROVINCIAL_SCHEMA = pa_schema(
    INDICATOR_FIELDS, "provincial_productivity", SCHEMA_VERSION,
    "Labour productivity of Indonesia and its provinces by year (Kemnaker method)",
)  # fmt: skip
KABKOTA_SCHEMA = pa_schema(
    INDICATOR_FIELDS, "kabkota_productivity", SCHEMA_VERSION,
    "Labour productivity of Kalimantan Timur's regencies/cities by year",
)  # fmt: skip
