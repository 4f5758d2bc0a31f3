# Who may promote a dataset to the next medallion layer.
package odg.rules.promotion

import data.odg.lib
import rego.v1

owners := {"responsible", "accountable"}

allow contains {
	"rule": "promote_owner",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "promote"
	lib.has_any(owners)
}

allow contains {
	"rule": "promote_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "promote"
	input.admin
}

deny contains {
	"rule": "promote_needs_owner",
	"reason": sprintf(
		"promoting needs the Responsible or Accountable role on %s, or an admin; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "promote"
	not lib.has_any(owners)
	not input.admin
}
