"""Output schemas of the company stage: company indicators and disclosure-controlled aggregates.

Each column is defined once here (name, type, unit, labels); the Parquet schemas, the data
dictionary and the bulletin labels derive from these definitions. Method: ``METHOD.md`` §2
(indicators), §3.4 (benchmark caveats) and §4 (disclosure control).
"""

from __future__ import annotations

from schemas.fields import Field, by_name, pa_schema

COMPANY_SCHEMA_VERSION = "1.0"
AGGREGATES_SCHEMA_VERSION = "1.0"

PRICE_BASIS_NOMINAL = "nominal"
PRICE_BASIS_CONSTANT_2010 = "constant 2010 prices"
PRICE_BASES = (PRICE_BASIS_NOMINAL, PRICE_BASIS_CONSTANT_2010)

AGGREGATE_LEVELS = ("kabkota_x_sector", "kabkota", "sector", "total")

# Identity and provenance -------------------------------------------------------------------------
_IDENTITY = [
    Field("nib", "string", "Nomor Induk Berusaha (13 digits), the company key", label_id="NIB",
          label_en="Business ID", nullable=False, regex=r"^\d{13}$"),
    Field("company_name", "string", "Company name as submitted", label_id="Nama perusahaan",
          label_en="Company name"),
    Field("kbli_code", "string", "KBLI 2020 5-digit code", label_id="KBLI", label_en="KBLI code"),
    Field("kbli_section", "string", "KBLI 2020 section letter", label_id="Kategori KBLI",
          label_en="KBLI section"),
    Field("pdrb_group", "string", "PDRB industry group (17 groups; M,N -> M-N, R..U -> R-U)",
          label_id="Lapangan usaha PDRB", label_en="PDRB industry group"),
    Field("kabkota_code", "string", "BPS 4-digit regency/city code", label_id="Kode kab/kota",
          label_en="Regency/city code"),
    Field("period", "string", "Reference month YYYY-MM", label_id="Periode", label_en="Period",
          nullable=False, regex=r"^\d{4}-\d{2}$"),
]  # fmt: skip

# Company indicators -----------------------------------------------------------------------------
_COMPANY_VALUES = [
    Field("value_added_idr", "int64",
          "Value added, subtraction method: net_sales + other_operating_income + chg_inventory_fg_wip "
          "- purch_raw_materials - purch_energy - purch_services - purch_goods_for_resale "
          "(optional items missing count as 0); current prices; may be negative",
          unit="IDR per month", label_id="Nilai tambah", label_en="Value added"),
    Field("labour_cost_idr", "int64",
          "Labour cost: wages_salaries + employer_social_contrib + other_benefits (other_benefits "
          "missing counts as 0); current prices", unit="IDR per month", label_id="Biaya tenaga kerja",
          label_en="Labour cost"),
    Field("net_sales_idr", "int64", "Net sales excluding VAT (as submitted)", unit="IDR per month",
          label_id="Penjualan bersih", label_en="Net sales"),
    Field("workers_avg_total", "float64", "Average persons engaged in the month (incl. unpaid)",
          unit="persons", label_id="Rata-rata pekerja", label_en="Average persons engaged"),
    Field("hours_worked", "float64", "Hours actually worked: hours_normal + hours_overtime",
          unit="hours per month", label_id="Jam kerja", label_en="Hours worked"),
    Field("fixed_assets_avg_idr", "float64",
          "Average fixed assets: (fixed_assets_nbv_open + fixed_assets_nbv_close) / 2", unit="IDR",
          label_id="Rata-rata aset tetap", label_en="Average fixed assets"),
    Field("va_per_worker_idr", "float64", "Labour productivity: value_added_idr / workers_avg_total",
          unit="IDR per person per month", label_id="Produktivitas tenaga kerja (per bulan)",
          label_en="Value added per worker (monthly)"),
    Field("va_per_worker_annualised_idr", "float64", "va_per_worker_idr x 12",
          unit="IDR per person per year", label_id="Produktivitas tenaga kerja (disetahunkan)",
          label_en="Value added per worker (annualised)"),
    Field("va_per_hour_idr", "float64", "value_added_idr / hours_worked; null when hours are 0",
          unit="IDR per hour", label_id="Produktivitas per jam kerja", label_en="Value added per hour"),
    Field("labour_cost_per_worker_idr", "float64", "labour_cost_idr / workers_avg_total",
          unit="IDR per person per month", label_id="Biaya tenaga kerja per pekerja",
          label_en="Average labour cost per worker"),
    Field("wage_per_employee_idr", "float64",
          "wages_salaries / (workers_pkwtt + workers_pkwt): the wage of paid employees compared with "
          "the UMK (unpaid and outsourced workers are not on the payroll)", unit="IDR per person per month",
          label_id="Upah per karyawan", label_en="Wage per employee"),
    Field("umk_idr_per_month", "float64",
          "Regency/city minimum wage (UMK) of the year, from the configured UMK table; null when not configured",
          unit="IDR per month", label_id="UMK", label_en="Regency minimum wage"),
    Field("labour_cost_competitiveness", "float64",
          "Labour-cost competitiveness: value_added_idr / labour_cost_idr; null when labour cost is 0",
          unit="IDR per IDR", label_id="Daya saing biaya tenaga kerja",
          label_en="Labour-cost competitiveness"),
    Field("labour_share_pct", "float64",
          "Labour share: 100 x labour_cost_idr / value_added_idr; null when value added <= 0",
          unit="percent", label_id="Pangsa biaya tenaga kerja", label_en="Labour share"),
    Field("capital_productivity_annualised", "float64",
          "Capital productivity: 12 x value_added_idr (monthly flow) / fixed_assets_avg_idr (stock); "
          "null when fixed assets are 0", unit="IDR per IDR per year", label_id="Produktivitas aset tetap",
          label_en="Capital productivity (annualised)"),
    Field("capital_intensity_idr_per_worker", "float64", "fixed_assets_avg_idr / workers_avg_total",
          unit="IDR per person", label_id="Intensitas modal", label_en="Capital intensity"),
    Field("va_ratio_pct", "float64", "Value-added ratio: 100 x value_added_idr / net_sales_idr; null when "
          "sales are 0", unit="percent", label_id="Rasio nilai tambah", label_en="Value-added ratio"),
    Field("price_basis", "string",
          "Price basis of the real-terms columns (value_added_real_idr, unit_labour_cost, productivity "
          "indices, benchmark ratio): 'constant 2010 prices' with a configured deflator, else 'nominal'",
          label_id="Dasar harga", label_en="Price basis", allowed=PRICE_BASES, nullable=False),
    Field("deflator_2010_100", "float64", "Deflator applied (index, 2010 = 100); null when nominal",
          unit="index 2010=100", label_id="Deflator", label_en="Deflator"),
    Field("deflator_source", "string", "Source of the deflator applied (from the deflator table)",
          label_id="Sumber deflator", label_en="Deflator source"),
    Field("value_added_real_idr", "float64",
          "value_added_idr at price_basis: value_added_idr x 100 / deflator_2010_100 (nominal when no deflator)",
          unit="IDR per month (at price_basis)", label_id="Nilai tambah riil", label_en="Real value added"),
    Field("unit_labour_cost", "float64",
          "Unit labour cost: labour_cost_idr / value_added_real_idr; null when value added <= 0",
          unit="IDR per IDR of real value added", label_id="Biaya tenaga kerja per unit",
          label_en="Unit labour cost"),
    Field("base_period", "string", "The company's base period: its first accepted period (YYYY-MM)",
          label_id="Periode dasar", label_en="Base period"),
    Field("productivity_index_prev", "float64",
          "100 x real VA per worker / the same in the previous calendar month; null without that month "
          "or when either is <= 0", unit="index (previous month = 100)",
          label_id="Indeks produktivitas (bulan sebelumnya = 100)", label_en="Productivity index, previous month"),
    Field("productivity_index_base", "float64",
          "100 x real VA per worker / the same in base_period; null when either is <= 0",
          unit="index (base period = 100)", label_id="Indeks produktivitas (periode dasar = 100)",
          label_en="Productivity index, fixed base"),
    Field("productivity_index_chain", "float64",
          "Chain-linked index: product of links P(t)/P(t') over the company's successive accepted periods "
          "from base_period (=100); null from the first link with P <= 0 on",
          unit="index (base period = 100)", label_id="Indeks produktivitas berantai",
          label_en="Productivity index, chain-linked"),
]  # fmt: skip

_BENCHMARK = [
    Field("va_per_worker_annualised_real_million_idr", "float64",
          "va_per_worker_annualised_idr at constant 2010 prices, in million IDR; null without a deflator",
          unit="million IDR per person per year (constant 2010 prices)",
          label_id="Produktivitas disetahunkan, harga konstan 2010",
          label_en="Annualised VA per worker, constant 2010 prices"),
    Field("benchmark_productivity_million_idr_per_worker", "float64",
          "Sector benchmark: PDRB at constant 2010 prices / employed persons", unit="million IDR per person per year",
          label_id="Produktivitas pembanding", label_en="Benchmark productivity"),
    Field("benchmark_level", "string",
          "Which benchmark: 'provincial sector', 'national sector' or 'provincial total'",
          label_id="Jenis pembanding", label_en="Benchmark level"),
    Field("benchmark_source", "string", "Source of the benchmark figure", label_id="Sumber pembanding",
          label_en="Benchmark source"),
    Field("benchmark_year", "int32", "Year of the benchmark figure", unit="year",
          label_id="Tahun pembanding", label_en="Benchmark year"),
    Field("benchmark_price_basis", "string", "Price basis of the benchmark (constant 2010 prices)",
          label_id="Dasar harga pembanding", label_en="Benchmark price basis"),
    Field("benchmark_ratio", "float64",
          "INDICATIVE: va_per_worker_annualised_real_million_idr / benchmark (formal medium firms vs a whole "
          "economy incl. informal work); null without a deflator", unit="ratio",
          label_id="Rasio terhadap pembanding (indikatif)", label_en="Ratio to benchmark (indicative)"),
    Field("benchmark_note", "string",
          "Why the comparison is indicative, and why the ratio is null when it is (English)",
          label_en="Benchmark note"),
    Field("benchmark_note_id", "string", "benchmark_note in Bahasa Indonesia",
          label_id="Catatan pembanding"),
]  # fmt: skip

_FLAGS = [
    Field("flag_negative_va", "bool", "Value added is below zero (kept, not rejected)",
          label_id="Nilai tambah negatif", nullable=False),
    Field("flag_zero_workers", "bool", "workers_avg_total is 0: per-worker indicators are null",
          label_id="Pekerja nol", nullable=False),
    Field("flag_zero_hours", "bool", "hours_worked is 0: va_per_hour_idr is null", label_id="Jam kerja nol",
          nullable=False),
    Field("flag_zero_labour_cost", "bool", "labour_cost_idr is 0: labour_cost_competitiveness is null",
          label_id="Biaya tenaga kerja nol", nullable=False),
    Field("flag_zero_fixed_assets", "bool",
          "fixed_assets_avg_idr is 0: capital_productivity_annualised is null",
          label_id="Aset tetap nol", nullable=False),
    Field("flag_zero_sales", "bool", "net_sales_idr is 0: va_ratio_pct is null", label_id="Penjualan nol",
          nullable=False),
    Field("flag_missing_input", "bool",
          "A required money or labour item was missing: indicators built on it are null",
          label_id="Data wajib kosong", nullable=False),
    Field("flag_below_umk", "bool",
          "wage_per_employee_idr below the UMK (plausibility flag, not a legal finding); null when no UMK "
          "table is configured or it has no row for the regency and year", label_id="Di bawah UMK"),
]  # fmt: skip

_PROVENANCE = [
    Field("source_file", "string", "Submission file the row came from", label_id="Berkas sumber"),
    Field("source_row", "int64", "Row number in the submission file", label_id="Baris sumber"),
]

COMPANY_INDICATOR_FIELDS: list[Field] = [*_IDENTITY, *_COMPANY_VALUES, *_BENCHMARK, *_FLAGS, *_PROVENANCE]
COMPANY_INDICATORS_SCHEMA = pa_schema(
    COMPANY_INDICATOR_FIELDS,
    name="company_indicators",
    version=COMPANY_SCHEMA_VERSION,
    description="One row per company and period: value-added productivity indicators (METHOD.md §2), "
    "sector benchmark (indicative) and flags. Confidential: company-level values.",
)

# Aggregates -------------------------------------------------------------------------------------
# Additive magnitudes summed into a cell; every one is tested by the p% rule (VA on absolute values).
SUMMED_MAGNITUDES: tuple[str, ...] = (
    "value_added_idr",
    "labour_cost_idr",
    "net_sales_idr",
    "workers_avg_total",
    "hours_worked",
    "fixed_assets_avg_idr",
)

_AGG_KEYS = [
    Field("period", "string", "Reference month YYYY-MM", nullable=False, label_id="Periode"),
    Field("level", "string", "Table level: kabkota_x_sector | kabkota | sector | total",
          allowed=AGGREGATE_LEVELS, nullable=False, label_id="Tingkat"),
    Field("kabkota_code", "string", "BPS regency/city code; null at the sector and total levels",
          label_id="Kode kab/kota"),
    Field("pdrb_group", "string", "PDRB industry group; null at the kabkota and total levels",
          label_id="Lapangan usaha PDRB"),
    Field("n_companies", "int64",
          "Distinct companies (NIB) in the cell; published also for suppressed cells (counts reveal no values)",
          unit="companies", nullable=False, label_id="Jumlah perusahaan"),
]  # fmt: skip

_AGG_SUMS = [
    Field("value_added_idr", "float64", "Sum of value added (current prices); null when suppressed",
          unit="IDR per month", label_id="Nilai tambah"),
    Field("labour_cost_idr", "float64", "Sum of labour cost; null when suppressed", unit="IDR per month",
          label_id="Biaya tenaga kerja"),
    Field("net_sales_idr", "float64", "Sum of net sales; null when suppressed", unit="IDR per month",
          label_id="Penjualan bersih"),
    Field("workers_avg_total", "float64", "Sum of average persons engaged; null when suppressed",
          unit="persons", label_id="Pekerja"),
    Field("hours_worked", "float64", "Sum of hours worked; null when suppressed", unit="hours per month",
          label_id="Jam kerja"),
    Field("fixed_assets_avg_idr", "float64", "Sum of average fixed assets; null when suppressed",
          unit="IDR", label_id="Aset tetap"),
]  # fmt: skip

_AGG_RATIOS = [
    Field("va_per_worker_idr", "float64", "Sum VA / sum workers (ratio of cell totals)",
          unit="IDR per person per month", label_id="Produktivitas tenaga kerja (per bulan)"),
    Field("va_per_worker_annualised_idr", "float64", "12 x sum VA / sum workers",
          unit="IDR per person per year", label_id="Produktivitas tenaga kerja (disetahunkan)"),
    Field("va_per_hour_idr", "float64", "Sum VA / sum hours", unit="IDR per hour",
          label_id="Produktivitas per jam kerja"),
    Field("labour_cost_per_worker_idr", "float64", "Sum LC / sum workers", unit="IDR per person per month",
          label_id="Biaya tenaga kerja per pekerja"),
    Field("labour_cost_competitiveness", "float64", "Sum VA / sum LC", unit="IDR per IDR",
          label_id="Daya saing biaya tenaga kerja"),
    Field("labour_share_pct", "float64", "100 x sum LC / sum VA; null when sum VA <= 0", unit="percent",
          label_id="Pangsa biaya tenaga kerja"),
    Field("va_ratio_pct", "float64", "100 x sum VA / sum net sales", unit="percent",
          label_id="Rasio nilai tambah"),
    Field("capital_productivity_annualised", "float64", "12 x sum VA / sum average fixed assets",
          unit="IDR per IDR per year", label_id="Produktivitas aset tetap"),
    Field("capital_intensity_idr_per_worker", "float64", "Sum average fixed assets / sum workers",
          unit="IDR per person", label_id="Intensitas modal"),
    Field("va_per_worker_annualised_p25_idr", "float64",
          "First quartile of companies' annualised VA per worker; only for published cells of >= 10 companies",
          unit="IDR per person per year", label_id="Kuartil 1 produktivitas"),
    Field("va_per_worker_annualised_median_idr", "float64",
          "Median of companies' annualised VA per worker; only for published cells of >= 10 companies",
          unit="IDR per person per year", label_id="Median produktivitas"),
    Field("va_per_worker_annualised_p75_idr", "float64",
          "Third quartile of companies' annualised VA per worker; only for published cells of >= 10 companies",
          unit="IDR per person per year", label_id="Kuartil 3 produktivitas"),
]  # fmt: skip

_AGG_SUPPRESSION = [
    Field("suppressed", "bool", "True when the cell's values are withheld (value columns are null)",
          nullable=False, label_id="Disembunyikan"),
    Field("suppression_reason", "string",
          "Why: 'fewer than N companies', 'p% rule on <variable>', 'secondary (protects <cell>)', "
          "'carried from <period>' (several joined by '; ')", label_en="Suppression reason"),
    Field("suppression_reason_id", "string", "suppression_reason in Bahasa Indonesia",
          label_id="Alasan disembunyikan"),
]  # fmt: skip

AGGREGATE_FIELDS: list[Field] = [*_AGG_KEYS, *_AGG_SUMS, *_AGG_RATIOS, *_AGG_SUPPRESSION]
AGGREGATE_VALUE_COLUMNS: tuple[str, ...] = tuple(f.name for f in [*_AGG_SUMS, *_AGG_RATIOS])
AGGREGATES_SCHEMA = pa_schema(
    AGGREGATE_FIELDS,
    name="company_aggregates",
    version=AGGREGATES_SCHEMA_VERSION,
    description="Disclosure-controlled aggregates of company submissions by kab/kota x PDRB group, kab/kota, "
    "PDRB group and total (minimum companies, p% rule, secondary suppression across margins, suppression "
    "carried across periods). Sums at current prices.",
)

COMPANY_FIELDS_BY_NAME = by_name(COMPANY_INDICATOR_FIELDS)
AGGREGATE_FIELDS_BY_NAME = by_name(AGGREGATE_FIELDS)
