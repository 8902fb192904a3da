package setupapi

import (
	"testing"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands/accounts"
)

// The account rules name roles by the token roles' strings: an account's
// role becomes its token's.
func TestAccountRolesAreTokenRoles(t *testing.T) {
	for account, token := range map[string]api.Role{
		accounts.RoleStoreStaff:    api.RoleStaff,
		accounts.RoleStoreAdmin:    api.RoleStoreAdmin,
		accounts.RoleCustomer:      api.RoleCustomer,
		accounts.RoleOperatorAdmin: api.RoleOperatorAdmin,
	} {
		if account != string(token) {
			t.Errorf("account role %q is token role %q", account, token)
		}
		if p := StaffPrincipal(accounts.Identity{StaffID: "x", Role: account}); p.Role != token {
			t.Errorf("principal of %q has role %q", account, p.Role)
		}
	}
}
