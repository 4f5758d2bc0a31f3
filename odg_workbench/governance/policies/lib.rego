# Helpers shared by the default policies (package odg.lib: it declares no allow/deny rules).
#
# A workspace file named lib.rego replaces this one: keep every helper the other
# policy files import, or replace those files too.
package odg.lib

import rego.v1

# "dataset bronze.orders", "domain sales" or "decision 7": what a reason talks about.
resource_label := sprintf("dataset %s", [input.resource.dataset]) if {
	input.resource.dataset
} else := sprintf("domain %s", [input.resource.domain]) if {
	input.resource.domain
} else := sprintf("%s %s", [input.resource.type, input.resource.id]) if {
	input.resource.id
} else := "the workspace"

# The roles the actor holds, for messages ("accountable, veto" or "no RACI role").
roles_text := join(sort(input.roles)) if count(input.roles) > 0 else := "no RACI role"

# concat() of a one-element array returns it quoted in rego-cpp 1.5: join() avoids that.
join(items) := items[0] if count(items) == 1 else := concat(", ", items)

# The roles of the actor among `wanted`.
held(wanted) := [r | some r in input.roles; r in wanted]

has_any(wanted) if count(held(wanted)) > 0

# The actor asked for it, or opened it on the requester's behalf.
own_request if input.actor == input.context.requester

own_request if input.actor == input.context.created_by
