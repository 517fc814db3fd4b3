"""Province boundaries: the 2022 Papua split as data.

BPS publishes PDRB on the 34 provinces of before the split up to 2023 and Sakernas on 38 from 2023.
``codes/boundary_map.csv`` maps each 38-province code to the 34-province region that contained it
(92 -> 91; 95, 96, 97 -> 94; the others to themselves). Rows are harmonised to one region set
before any division, and growth compares rows of the same territory only.
"""

from __future__ import annotations

import csv
from functools import cache

from schemas.codes import CODES_DIR

BOUNDARY_34 = "34"
BOUNDARY_38 = "38"
BOUNDARIES = (BOUNDARY_34, BOUNDARY_38)


class BoundaryError(ValueError):
    """Rows that cannot be put on the requested boundary (no mapping exists)."""


@cache
def map_38_to_34() -> dict[str, str]:
    with (CODES_DIR / "boundary_map.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code_38"]: r["code_34"] for r in csv.DictReader(fh)}


@cache
def codes_for(boundary: str) -> frozenset[str]:
    """Province codes of a boundary set (34 or 38 codes, without the national "00")."""
    if boundary == BOUNDARY_38:
        return frozenset(map_38_to_34())
    if boundary == BOUNDARY_34:
        return frozenset(map_38_to_34().values())
    raise BoundaryError(f"unknown boundary {boundary!r}; use '34' or '38'")


@cache
def split_codes() -> frozenset[str]:
    """Codes whose territory differs between the two boundaries (both the parents and the new provinces)."""
    m = map_38_to_34()
    changed = {c38 for c38, c34 in m.items() if c38 != c34}
    return frozenset(changed | {m[c] for c in changed})


def territory_changed(code: str, boundary_from: str, boundary_to: str) -> bool:
    """True when province ``code`` covers a different territory on the two boundaries."""
    return boundary_from != boundary_to and code in split_codes()


def detect_boundary(codes: set[str] | frozenset[str]) -> str:
    """The boundary a set of province codes is on: any post-split code means 38."""
    new_only = codes_for(BOUNDARY_38) - codes_for(BOUNDARY_34)
    return BOUNDARY_38 if set(codes) & new_only else BOUNDARY_34


def to_boundary_code(code: str, source_boundary: str, target_boundary: str) -> str:
    """The code of the region on ``target_boundary`` that contains ``code`` of ``source_boundary``."""
    if source_boundary == target_boundary:
        return code
    if source_boundary == BOUNDARY_38 and target_boundary == BOUNDARY_34:
        m = map_38_to_34()
        if code not in m:
            raise BoundaryError(f"province code {code!r} has no 34-province mapping in boundary_map.csv")
        return m[code]
    if code in codes_for(BOUNDARY_34) and code not in split_codes():
        return code
    # 34 -> 38 for 91/94 would need dividing a value between provinces: no mapping exists.
    raise BoundaryError(
        f"cannot move province {code!r} from the {source_boundary}-province to the "
        f"{target_boundary}-province boundary: a split region's figure cannot be divided"
    )
