# Who may read personal data unmasked.
package odg.rules.data_access

import data.odg.lib
import rego.v1

owners := {"responsible", "accountable"}

allow contains {
	"rule": "read_unmasked_owner",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "data.read_unmasked"
	lib.has_any(owners)
}

allow contains {
	"rule": "read_unmasked_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "data.read_unmasked"
	input.admin
}

deny contains {
	"rule": "read_unmasked_needs_owner",
	"reason": sprintf(
		"reading %s unmasked needs the Responsible or Accountable role, or an admin; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "data.read_unmasked"
	not lib.has_any(owners)
	not input.admin
}
