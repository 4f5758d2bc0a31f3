"""EU AI Act, the Artificial Intelligence Act (Regulation (EU) 2024/1689).

Checked on the models registered in the workspace (their model cards): prohibited
practices (Art. 5), classification of the intended purpose (Art. 6 and Annex III), and for
high-risk systems the requirements of Chapter III Section 2: risk management (Art. 9),
data and data governance (Art. 10), technical documentation (Art. 11), record-keeping
(Art. 12), transparency to deployers (Art. 13), human oversight (Art. 14), accuracy and
robustness (Art. 15); transparency obligations of Art. 50 for systems that talk with people
or generate content. A workspace without models gets "not applicable" throughout.
"""

from __future__ import annotations

from odg_workbench.compliance import controls as c
from odg_workbench.compliance.base import Checker, Requirement

__all__ = ["EU_AI_ACT"]

_REG = "Regulation (EU) 2024/1689"


EU_AI_ACT = Checker(
    name="eu_ai_act",
    title="EU AI Act - Artificial Intelligence Act",
    version="Regulation (EU) 2024/1689",
    jurisdictions=("EU",),
    requirements=(
        Requirement(
            "AI Act Art. 5",
            "Prohibited AI practices",
            "No model serves a practice of Art. 5(1): manipulation, exploiting vulnerabilities, social "
            "scoring, crime prediction from profiling, facial scraping, emotion recognition at work or "
            "school, sensitive biometric categorisation, real-time public biometric identification.",
            c.ai_prohibited_practices,
            f"{_REG}, Art. 5",
        ),
        Requirement(
            "AI Act Art. 6",
            "Classification of the intended purpose (Annex III)",
            "Each model's intended purpose is documented and its risk level known.",
            c.ai_risk_classified,
            f"{_REG}, Art. 6 and Annex III",
        ),
        Requirement(
            "AI Act Art. 9",
            "Risk management system",
            "High-risk models document their risk management (identified risks and mitigations).",
            c.model_card_fields([("risk management", ("risk_management", "risks"))], high_risk_only=True),
            f"{_REG}, Art. 9",
        ),
        Requirement(
            "AI Act Art. 10",
            "Data and data governance",
            "Training data of high-quality: pinned snapshots that pass their quality gate, with "
            "recorded lineage and personal data masked.",
            c.training_data_governance,
            f"{_REG}, Art. 10",
        ),
        Requirement(
            "AI Act Art. 11",
            "Technical documentation",
            "High-risk models have technical documentation (Annex IV): purpose, training data, metrics, environment.",
            c.model_card_fields(
                [
                    ("intended purpose", ("intended_purpose", "intended_use", "purpose")),
                    ("training data", ("training_datasets", "training_dataset_id", "training_data")),
                    ("metrics", ("metrics", "performance")),
                    ("training environment", ("training_environment", "environment")),
                ],
                high_risk_only=True,
            ),
            f"{_REG}, Art. 11 and Annex IV",
        ),
        Requirement(
            "AI Act Art. 12",
            "Record-keeping",
            "High-risk systems log events over their lifetime: the audit trail verifies.",
            c.when_high_risk(c.audit_integrity),
            f"{_REG}, Art. 12",
        ),
        Requirement(
            "AI Act Art. 13",
            "Transparency and information to deployers",
            "Instructions for use: intended purpose and known limitations are documented.",
            c.model_card_fields(
                [
                    ("intended purpose", ("intended_purpose", "intended_use", "purpose")),
                    ("limitations", ("limitations", "known_limitations")),
                ],
                high_risk_only=True,
            ),
            f"{_REG}, Art. 13",
        ),
        Requirement(
            "AI Act Art. 14",
            "Human oversight",
            "High-risk models are overseen by people: the card says who oversees and how.",
            c.model_card_fields([("human oversight", ("human_oversight", "oversight"))], high_risk_only=True),
            f"{_REG}, Art. 14",
        ),
        Requirement(
            "AI Act Art. 15",
            "Accuracy, robustness and cybersecurity",
            "High-risk models declare their accuracy metrics and robustness measures.",
            c.model_card_fields(
                [("accuracy metrics", ("metrics", "accuracy")), ("robustness", ("robustness", "robustness_tests"))],
                high_risk_only=True,
            ),
            f"{_REG}, Art. 15",
        ),
        Requirement(
            "AI Act Art. 50",
            "Transparency obligations",
            "Systems that interact with people or generate synthetic content disclose it.",
            c.transparency_notice,
            f"{_REG}, Art. 50",
        ),
    ),
)
