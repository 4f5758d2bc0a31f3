# Who may classify a dataset (level, jurisdictions, personal-data columns).
#
# input.context.level is the new level (0 Public .. 4 Top Secret) and
# input.context.previous_level the stored one, when the dataset was classified before;
# level_label and previous_label name them ("Restricted").
package odg.rules.classification

import data.odg.lib
import rego.v1

owners := {"responsible", "accountable"}

# Lowering a level exposes data more widely: only the Accountable (or an admin) may.
lowering if input.context.level < input.context.previous_level

allow contains {
	"rule": "classification_set_owner",
	"reason": sprintf("%s holds %s on %s", [input.actor, lib.roles_text, lib.resource_label]),
} if {
	input.action == "classification.set"
	lib.has_any(owners)
}

allow contains {
	"rule": "classification_set_admin",
	"reason": sprintf("%s is a workspace admin", [input.actor]),
} if {
	input.action == "classification.set"
	input.admin
}

deny contains {
	"rule": "classification_set_needs_owner",
	"reason": sprintf(
		"classifying %s needs the Responsible or Accountable role, or an admin; %s holds %s",
		[lib.resource_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "classification.set"
	not lib.has_any(owners)
	not input.admin
}

deny contains {
	"rule": "classification_lower_needs_accountable",
	"reason": sprintf(
		"lowering the classification of %s from %s to %s needs its Accountable or an admin; %s holds %s",
		[lib.resource_label, input.context.previous_label, input.context.level_label, input.actor, lib.roles_text],
	),
} if {
	input.action == "classification.set"
	lowering
	lib.has_any(owners) # others are refused by classification_set_needs_owner
	not "accountable" in input.roles
	not input.admin
}
