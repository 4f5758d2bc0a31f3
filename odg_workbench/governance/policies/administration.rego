# Who may change RACI assignments and policies.
#
# For raci.change, input.roles are the actor's roles on the domain-level assignment of the
# domain concerned (input.resource.domain): an Accountable of a domain manages its RACI.
package odg.rules.administration

import data.odg.lib
import rego.v1

allow contains {
	"rule": "raci_change_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "raci.change"
	input.admin
}

allow contains {
	"rule": "raci_change_domain_accountable",
	"reason": sprintf("%s is Accountable for domain %s", [input.actor, input.resource.domain]),
} if {
	input.action == "raci.change"
	input.resource.domain
	"accountable" in input.roles
}

deny contains {
	"rule": "raci_change_needs_admin_or_accountable",
	"reason": sprintf(
		"changing the RACI of %s needs a workspace admin (governance.admins) or the Accountable of its domain; %s is neither",
		[lib.resource_label, input.actor],
	),
} if {
	input.action == "raci.change"
	not input.admin
	not "accountable" in input.roles
}

allow contains {
	"rule": "policy_change_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "policy.change"
	input.admin
}

deny contains {
	"rule": "policy_change_needs_admin",
	"reason": sprintf("changing policies needs a workspace admin (governance.admins); %s is not one", [input.actor]),
} if {
	input.action == "policy.change"
	not input.admin
}
