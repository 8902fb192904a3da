package e2e

import (
	"testing"
	"time"
)

// A staff account's role and store change through PATCH
// /v1/admin/staff/{id} (operator admin): If-Match is honoured, the tokens
// issued before the change are refused at once (the change and the
// revocation commit together), and refusals write nothing.
func TestChangeStaffRoleAndStore(t *testing.T) {
	e := start(t)
	admin := e.staff("ops-1", "", "operator_admin")
	e.staff("st-X", "store-X", "store_staff")
	e.staff("st-Y", "store-Y", "store_staff")
	tok := e.login("st-X")
	e.must(200, e.do("GET", "/v1/views/setups", tok, "", nil))

	version := func() (v int64, role, store string) {
		var s *string
		if err := e.a.Pool.QueryRow(t.Context(), `SELECT version, role, store_id FROM setup_staff_accounts WHERE staff_id = 'st-X'`).Scan(&v, &role, &s); err != nil {
			t.Fatal(err)
		}
		if s != nil {
			store = *s
		}
		return v, role, store
	}
	refusals := []struct {
		name, path, ifMatch string
		body                any
		status              int
		code                string
	}{
		{"unknown_role", "/v1/admin/staff/st-X", "", map[string]string{"role": "superuser"}, 422, "unknown_role"},
		{"store_role_without_store", "/v1/admin/staff/st-X", "", map[string]string{"store_id": ""}, 422, "bad_role"},
		{"finance_with_a_store", "/v1/admin/staff/st-X", "", map[string]string{"role": "finance", "store_id": "store-Y"}, 422, "bad_role"},
		{"unknown_store", "/v1/admin/staff/st-X", "", map[string]string{"store_id": "store-nowhere"}, 422, "unknown_store"},
		{"nothing_to_change", "/v1/admin/staff/st-X", "", map[string]string{}, 422, "nothing_to_change"},
		{"unknown_staff", "/v1/admin/staff/nobody", "", map[string]string{"role": "auditor"}, 404, "unknown_staff"},
		{"stale_if_match", "/v1/admin/staff/st-X", q(7), map[string]string{"role": "store_admin"}, 409, "version_conflict"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			before := e.eventCount()
			res := e.do("PATCH", r.path, admin, r.ifMatch, r.body)
			p := e.problem(res, r.status, r.code)
			if r.status == 409 && p.CurrentVersion == nil {
				t.Fatalf("409 without current_version: %s", res.body)
			}
			if v, role, store := version(); v != 1 || role != "store_staff" || store != "store-X" || e.eventCount() != before {
				t.Fatalf("a refusal wrote: version %d, %s at %s", v, role, store)
			}
			e.must(200, e.do("GET", "/v1/views/setups", tok, "", nil))
		})
	}

	// Moving st-X to store Y as store admin, at the version read.
	e.clock.Advance(time.Second)
	res := e.must(200, e.do("PATCH", "/v1/admin/staff/st-X", admin, q(1), map[string]string{"role": "store_admin", "store_id": "store-Y"}))
	if m := res.json(t); m["role"] != "store_admin" || m["store_id"] != "store-Y" || res.etag != `"2"` {
		t.Fatalf("answer %v, ETag %s", m, res.etag)
	}
	e.problem(e.do("GET", "/v1/views/setups", tok, "", nil), 401, "unauthenticated")

	// A new login carries the new role and store.
	e.clock.Advance(time.Second)
	fresh := e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "st-X", "password": "pass-st-X-long"})).json(t)
	if fresh["role"] != "store_admin" || fresh["store"] != "store-Y" {
		t.Fatalf("login after the change: %v", fresh)
	}

	// To finance: the store goes with the store role.
	res = e.must(200, e.do("PATCH", "/v1/admin/staff/st-X", admin, q(2), map[string]string{"role": "finance"}))
	if v, role, store := version(); v != 3 || role != "finance" || store != "" || res.etag != `"3"` {
		t.Fatalf("after the move to finance: version %d, %s at %q", v, role, store)
	}
	e.problem(e.do("GET", "/v1/views/setups", fresh["token"].(string), "", nil), 401, "unauthenticated")
}
