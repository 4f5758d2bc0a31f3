# Who may set a consumer's differential-privacy budget on a dataset (odg_workbench.privacy.dp).
package odg.rules.privacy_budget

import data.odg.lib
import rego.v1

owners := {"responsible", "accountable"}

allow contains {
	"rule": "budget_owner",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "privacy.budget.set"
	lib.has_any(owners)
}

allow contains {
	"rule": "budget_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "privacy.budget.set"
	input.admin
}

deny contains {
	"rule": "budget_needs_owner",
	"reason": sprintf(
		"setting a privacy budget on %s needs the Responsible or Accountable role, or an admin; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "privacy.budget.set"
	not lib.has_any(owners)
	not input.admin
}
