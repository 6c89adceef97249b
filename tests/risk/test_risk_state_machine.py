"""Every (route, state, transition) pair, allowed and refused: first what the state machine
itself allows, then the same table through the services (an allowed pair moves the case and logs
one row; a refused one is a 409 that changes nothing)."""

from __future__ import annotations

import pytest

from coop.services import ConflictError
from loans.models import LoanApplication
from risk import policy, services
from risk.models import ApprovalCase, ApprovalLog, InvestigationSignature, Stage
from tests.risk.conftest import first_allowed

A, S, R, J, W = (
    policy.ADVANCE,
    policy.SIGN_INVESTIGATION,
    policy.RETURN,
    policy.REJECT,
    policy.WITHDRAW,
)
REJECTED, WITHDRAWN = Stage.REJECTED.value, Stage.WITHDRAWN.value

# Written out by hand from seed 000's routes, not derived from the code under test.
ALLOWED: dict[str, dict[str, dict[str, str]]] = {
    "low": {
        "application": {A: "credit_granting", W: WITHDRAWN},
        "credit_granting": {A: "approval", R: "application", J: REJECTED, W: WITHDRAWN},
        "approval": {A: "approved", R: "credit_granting", J: REJECTED, W: WITHDRAWN},
    },
    "medium": {
        "application": {A: "review", W: WITHDRAWN},
        "review": {A: "credit_granting", R: "application", J: REJECTED, W: WITHDRAWN},
        "credit_granting": {A: "approval", R: "review", J: REJECTED, W: WITHDRAWN},
        "approval": {A: "approved", R: "credit_granting", J: REJECTED, W: WITHDRAWN},
    },
    "high": {
        "application": {A: "acceptance_review", W: WITHDRAWN},
        "acceptance_review": {A: "investigation", R: "application", J: REJECTED, W: WITHDRAWN},
        # Completing the investigation takes both A/B signatures (a sign keeps the stage).
        "investigation": {S: "investigation", R: "acceptance_review", J: REJECTED, W: WITHDRAWN},
        "credit_review": {A: "loan_approval", R: "investigation", J: REJECTED, W: WITHDRAWN},
        "loan_approval": {A: "contract_review", R: "credit_review", J: REJECTED, W: WITHDRAWN},
        "contract_review": {
            A: "payment_condition_review",
            R: "loan_approval",
            J: REJECTED,
            W: WITHDRAWN,
        },
        "payment_condition_review": {
            A: "approved",
            R: "contract_review",
            J: REJECTED,
            W: WITHDRAWN,
        },
    },
}
ROUTES = list(ALLOWED)
STATES = list(Stage.values)
NAMES = [A, S, R, J, W]


def _force(case: ApprovalCase, state: str) -> ApprovalCase:
    # Test set-up only: put the case straight into ``state`` (the services never do this).
    ApprovalCase.objects.filter(pk=case.pk).update(state=state, previous_stage_by=[])
    return ApprovalCase.objects.select_related("application", "customer").get(pk=case.pk)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("state", STATES)
def test_the_state_machine_allows_exactly_the_routes_moves(open_case, route, state):
    case = _force(open_case(route), state)

    possible = {name for name in NAMES if policy.possible(case, name)}

    assert possible == set(ALLOWED[route].get(state, {}))


def _snapshot(case: ApprovalCase) -> tuple:
    case = ApprovalCase.objects.get(pk=case.pk)
    return (
        case.state,
        case.stage_entered_at,
        ApprovalLog.objects.filter(case=case).count(),
        InvestigationSignature.objects.filter(case=case).count(),
        LoanApplication.objects.get(pk=case.application_id).state,
    )


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("name", NAMES)
def test_every_pair_through_the_services(open_case, team, route, state, name):
    case = _force(open_case(route), state)
    target = ALLOWED[route].get(state, {}).get(name)
    before = _snapshot(case)

    if target is None:
        with pytest.raises(ConflictError):
            services.approval_case_transition(
                case=case,
                actor=team.hq_risk1,
                transition=name,
                comment="说明",
                reason_code="incomplete_documents",
            )
        assert _snapshot(case) == before
        return

    actor = first_allowed(case, name, team.pool)
    moved = services.approval_case_transition(
        case=case, actor=actor, transition=name, comment="说明", reason_code="incomplete_documents"
    )

    assert moved.state == target
    if name == S:
        assert ApprovalLog.objects.filter(case=case).count() == before[2]
        assert InvestigationSignature.objects.filter(case=case, signer=actor).count() == 1
        return
    last = ApprovalLog.objects.filter(case=case).latest("id")
    assert (last.from_state, last.to_state, last.transition, last.actor_id) == (
        state,
        target,
        name,
        actor.pk,
    )
    assert ApprovalLog.objects.filter(case=case).count() == before[2] + 1
    application_state = LoanApplication.objects.get(pk=case.application_id).state
    expected_application = {"approved": "approved", REJECTED: "rejected", WITHDRAWN: "withdrawn"}
    assert application_state == expected_application.get(target, "submitted")
