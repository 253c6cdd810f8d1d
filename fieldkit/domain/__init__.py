"""The domain of fieldkit: checklist, visits, validators and the clock. Imports nothing else of the project.

Enforcement cases and visits are loaded at their first use (`__getattr__` below): the list a
technician opens first needs neither, and their dataclasses cost ~10 ms of every start.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .divisions import (
    CITIES,
    COUNTIES,
    DIVISIONS,
    PROVINCE_CODE,
    Division,
    city_of,
    contains,
    counties_of,
    full_name,
)
from .errors import DomainError, TransitionError, ValidationError
from .hlc import HLC, Stamp, newer
from .institutions import CONTACT_FIELDS, INSTITUTION_FIELDS, MASTER_FIELDS
from .steps import (
    BLOCKED,
    DONE,
    FULL_PROCESS_STEPS,
    IN_PROGRESS,
    SERVER,
    STATUS_NAMES,
    STATUSES,
    STEP_KEYS,
    STEPS,
    STEPS_BY_KEY,
    TECHNICIAN,
    TODO,
    Guidance,
    Step,
    check_transition,
    dependents,
    done_count,
    is_full_process,
    next_step,
    step,
)
from .validators import (
    ACADEMIC,
    INSTITUTION_KINDS,
    NON_ACADEMIC,
    CourseCharge,
    typed_id,
    uscc_check_char,
    validate_course_charge,
    validate_division,
    validate_mobile,
    validate_phone,
    validate_uscc,
)

if TYPE_CHECKING:  # what the type checker sees; at run time, __getattr__
    from . import cases
    from .cases import Case, CaseItem, Escalation, case_state
    from .visits import (
        AMENDABLE,
        OUTCOME_NAMES,
        OUTCOMES,
        VISIT_KIND_NAMES,
        VISIT_KINDS,
        Rectification,
        Visit,
        check_recorded,
        validate_visit,
        visit_from_wire,
        visit_to_wire,
    )

# name -> the submodule that defines it, imported when the name is first asked for
_LATER = {
    "cases": "",
    **dict.fromkeys(("Case", "CaseItem", "Escalation", "case_state"), "cases"),
    **dict.fromkeys(
        (
            "AMENDABLE",
            "OUTCOME_NAMES",
            "OUTCOMES",
            "VISIT_KIND_NAMES",
            "VISIT_KINDS",
            "Rectification",
            "Visit",
            "check_recorded",
            "validate_visit",
            "visit_from_wire",
            "visit_to_wire",
        ),
        "visits",
    ),
}


def __getattr__(name: str) -> object:
    """Load a submodule at the first use of one of its names (PEP 562)."""
    if name not in _LATER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = import_module(f"{__name__}.{_LATER[name] or name}")
    value = module if not _LATER[name] else getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "ACADEMIC",
    "AMENDABLE",
    "BLOCKED",
    "CITIES",
    "CONTACT_FIELDS",
    "COUNTIES",
    "CourseCharge",
    "DIVISIONS",
    "DONE",
    "Division",
    "DomainError",
    "FULL_PROCESS_STEPS",
    "INSTITUTION_FIELDS",
    "MASTER_FIELDS",
    "Guidance",
    "HLC",
    "INSTITUTION_KINDS",
    "IN_PROGRESS",
    "NON_ACADEMIC",
    "OUTCOMES",
    "OUTCOME_NAMES",
    "PROVINCE_CODE",
    "Rectification",
    "SERVER",
    "STATUSES",
    "STATUS_NAMES",
    "STEPS",
    "STEPS_BY_KEY",
    "STEP_KEYS",
    "Stamp",
    "Step",
    "TECHNICIAN",
    "TODO",
    "TransitionError",
    "VISIT_KINDS",
    "VISIT_KIND_NAMES",
    "ValidationError",
    "Visit",
    "Case",
    "CaseItem",
    "Escalation",
    "case_state",
    "cases",
    "check_recorded",
    "check_transition",
    "city_of",
    "contains",
    "counties_of",
    "dependents",
    "done_count",
    "full_name",
    "is_full_process",
    "newer",
    "next_step",
    "step",
    "uscc_check_char",
    "typed_id",
    "validate_course_charge",
    "validate_division",
    "validate_mobile",
    "validate_phone",
    "validate_uscc",
    "validate_visit",
    "visit_from_wire",
    "visit_to_wire",
]
