package e2e

import (
	"strconv"
	"testing"
)

// TestSetup_unlock_and_steps_honour_if_match: the reception unlock and the
// tablet steps take the If-Match version as the command's expected
// version: a stale one is 409 with the current version and writes nothing.
func TestSetup_unlock_and_steps_honour_if_match(t *testing.T) {
	e := start(t)
	staff := e.staff("st-1", "store-A", "store_staff")
	admin := e.must(200, e.do("POST", "/v1/auth/staff/login", "", "", map[string]string{"staff_id": "root", "password": "bootstrap-password"})).json(t)["token"].(string)
	app := e.must(201, e.do("POST", "/v1/applications", "", "", applicant)).json(t)
	id := app["application_id"].(string)
	for i := 1; i <= 5; i++ {
		e.do("POST", "/v1/receptions", staff, "", map[string]string{"application_id": id, "passcode": "WRONGPASS1"})
	}
	e.must(423, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": app["qr"].(string)}))

	before := e.eventCount()
	stale := e.must(409, e.do("POST", "/v1/admin/applications/"+id+"/unlock", admin, q(1), nil)).json(t)
	current, ok := stale["current_version"].(float64)
	if !ok || current < 7 || e.eventCount() != before {
		t.Fatalf("stale unlock: %v, events %d→%d; want 409 naming the current version and nothing written", stale, before, e.eventCount())
	}
	unlocked := e.must(204, e.do("POST", "/v1/admin/applications/"+id+"/unlock", admin, q(int64(current)), nil))
	if unlocked.etag != strconv.Quote(strconv.FormatInt(int64(current)+1, 10)) {
		t.Fatalf("unlock ETag %s, want version %d", unlocked.etag, int64(current)+1)
	}
	e.must(409, e.do("POST", "/v1/admin/applications/"+id+"/unlock", admin, "", nil)) // not locked any more

	rec := e.must(201, e.do("POST", "/v1/receptions", staff, "", map[string]string{"qr": app["qr"].(string)})).json(t)
	sid := rec["setup_id"].(string)
	v := int64(rec["version"].(float64))
	visitor := map[string]any{"Kind": "user", "Name": "山田太郎", "IDDocumentType": "運転免許証", "DocumentChecked": true}
	before = e.eventCount()
	e.must(409, e.do("POST", "/v1/setups/"+sid+"/visitor", staff, q(v+1), visitor))
	e.must(409, e.do("POST", "/v1/setups/"+sid+"/completion", staff, q(v+1), nil))
	e.must(400, e.do("POST", "/v1/setups/"+sid+"/visitor", staff, "not-a-version", visitor))
	if e.eventCount() != before {
		t.Fatal("a stale If-Match wrote events")
	}
	e.must(200, e.do("POST", "/v1/setups/"+sid+"/visitor", staff, q(v), visitor))
}
