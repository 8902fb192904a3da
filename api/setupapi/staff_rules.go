package setupapi

import (
	"slices"

	"github.com/gantry-etc/gantry/adapters/passwordpolicy"
	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain"
)

// staffRoles are the roles a staff account may have.
var staffRoles = []string{string(api.RoleStaff), string(api.RoleStoreAdmin), string(api.RoleFinance), string(api.RoleAuditor), string(api.RoleRegulator), string(api.RoleOperatorAdmin)}

// checkNewStaff refuses, with 422, an unknown role, over-long IDs (they reach
// every event's actor) and a weak password (passwordpolicy).
func checkNewStaff(req NewStaff) error {
	if !slices.Contains(staffRoles, req.Role) {
		return domain.Invalid("unknown_role", "role must be one of store_staff, store_admin, finance, auditor, regulator, operator_admin.").With("role", "")
	}
	if err := domain.CheckLengths(
		domain.LengthCheck{Field: "staff_id", Value: req.StaffID, Max: 40},
		domain.LengthCheck{Field: "store_id", Value: req.StoreID, Max: 40},
		domain.LengthCheck{Field: "store_name", Value: req.StoreName, Max: domain.MaxNameLength},
	); err != nil {
		return err
	}
	return passwordpolicy.Check(req.Password, req.StaffID, req.StoreID, req.StoreName)
}
