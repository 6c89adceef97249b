"""The loan lifecycle services in one import: credit lines and drawdowns, contracts, notices and
disbursement, repayments, classification. Each lives in its own module; this one re-exports them
for callers (the whole-village credit issue calls ``credit_line_grant``, post-loan inspections
extend ``loan_disburse``)."""

from loans.services.classification import (
    classification_override_approve,
    classification_override_propose,
    classification_override_reject,
    classification_override_release,
    loan_cure,
    loan_mark_overdue,
    loan_write_off,
    loans_classify_all,
)
from loans.services.credit import (
    credit_line_change_status,
    credit_line_drawdown,
    credit_line_grant,
    guarantee_contract_create,
)
from loans.services.disbursement import (
    contract_create,
    contract_sign,
    loan_cancel,
    loan_disburse,
    notice_issue,
)
from loans.services.repayment import loan_settle, repayment_quote, repayment_record

__all__ = [
    "classification_override_approve",
    "classification_override_propose",
    "classification_override_reject",
    "classification_override_release",
    "contract_create",
    "contract_sign",
    "credit_line_change_status",
    "credit_line_drawdown",
    "credit_line_grant",
    "guarantee_contract_create",
    "loan_cancel",
    "loan_cure",
    "loan_disburse",
    "loan_mark_overdue",
    "loan_settle",
    "loan_write_off",
    "loans_classify_all",
    "notice_issue",
    "repayment_quote",
    "repayment_record",
]
