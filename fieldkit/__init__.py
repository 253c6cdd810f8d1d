"""fieldkit: the field technician's tool for fund-supervision onboarding (校外培训资金监管下沉式指导)."""

__version__ = "0.1.0"
