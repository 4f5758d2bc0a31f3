# Rules for every action.
package odg.rules.base

import rego.v1

# Unknown users may do nothing: an actor must hold a role in some RACI assignment
# (any domain or dataset) or be a workspace admin (governance.admins).
deny contains {
	"rule": "unknown_user",
	"reason": sprintf(
		"%s holds no role in any RACI assignment and is not an admin; unknown users may do nothing (ask an admin to add you with `odg raci set`)",
		[input.actor],
	),
} if {
	not input.known
}
