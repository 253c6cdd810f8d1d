"""The domain of fieldkit: checklist, visits, validators and the clock. Imports nothing else of the project."""

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
    uscc_check_char,
    validate_course_charge,
    validate_division,
    validate_mobile,
    validate_uscc,
)
from .visits import (
    AMENDABLE,
    OUTCOME_NAMES,
    OUTCOMES,
    VISIT_KIND_NAMES,
    VISIT_KINDS,
    Rectification,
    Visit,
    validate_visit,
    visit_from_wire,
    visit_to_wire,
)

__all__ = [name for name in dir() if not name.startswith("_")]
