# Who may create, approve, reject, veto and comment on governance decisions.
#
# input.roles are the RACI roles the actor holds on the decision's dataset (falling back
# to its domain), plus "escalation" while the decision is escalated to the actor.
# input.context.requester is who asked for the decision.
package odg.rules.decisions

import data.odg.lib
import rego.v1

approvers := {"responsible", "accountable", "escalation"}

rejecters := {"accountable", "escalation"}

commenters := {"responsible", "accountable", "consulted", "informed", "veto", "escalation"}

# -- create: any known user ----------------------------------------------------------------

allow contains {
	"rule": "create_known_user",
	"reason": sprintf("%s is a known user and may open a decision", [input.actor]),
} if {
	input.action == "decision.create"
	input.known
}

# -- approve: Responsible or Accountable (or the escalation level), never the requester -------

allow contains {
	"rule": "approve_responsible_or_accountable",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "decision.approve"
	lib.has_any(approvers)
	not lib.own_request
}

deny contains {
	"rule": "approve_own_request",
	"reason": sprintf("%s requested this decision; nobody approves their own request", [input.actor]),
} if {
	input.action == "decision.approve"
	lib.own_request
}

deny contains {
	"rule": "approve_needs_responsible_or_accountable",
	"reason": sprintf(
		"approving needs the Responsible or Accountable role on %s; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "decision.approve"
	not lib.has_any(approvers)
}

# -- reject: any Accountable (or the escalation level) ---------------------------------------

allow contains {
	"rule": "reject_accountable",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "decision.reject"
	lib.has_any(rejecters)
}

deny contains {
	"rule": "reject_needs_accountable",
	"reason": sprintf(
		"rejecting needs the Accountable role on %s; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "decision.reject"
	not lib.has_any(rejecters)
}

# -- veto: veto holders ----------------------------------------------------------------------

allow contains {
	"rule": "veto_holder",
	"reason": sprintf("%s holds a veto on %s", [input.actor, lib.resource_label]),
} if {
	input.action == "decision.veto"
	"veto" in input.roles
}

deny contains {
	"rule": "veto_needs_veto_holder",
	"reason": sprintf("vetoing needs a veto on %s; %s holds %s", [lib.resource_label, input.actor, lib.roles_text]),
} if {
	input.action == "decision.veto"
	not "veto" in input.roles
}

# -- comment: any RACI role, and the requester ------------------------------------------------

allow contains {
	"rule": "comment_raci_member",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "decision.comment"
	lib.has_any(commenters)
}

allow contains {
	"rule": "comment_requester",
	"reason": sprintf("%s requested this decision", [input.actor]),
} if {
	input.action == "decision.comment"
	lib.own_request
}

deny contains {
	"rule": "comment_needs_raci_role",
	"reason": sprintf(
		"commenting needs a RACI role on %s (or being the requester); %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "decision.comment"
	not lib.has_any(commenters)
	not lib.own_request
}
