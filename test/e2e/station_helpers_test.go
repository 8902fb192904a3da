package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/gantry-etc/gantry/domain/cardauth"
)

// cardStep does step 8 the way the station reports it, without a reader:
// it fetches the setup's signed record and reports it as read back with
// its SHA-256 (the flow with a real card write over PC/SC is in
// station_test.go). It answers the setup's new version.
func (e *env) cardStep(staff, sid string, v int64) int64 {
	e.t.Helper()
	rec := e.must(200, e.do("GET", "/v1/setups/"+sid+"/card-record", staff, "", nil)).json(e.t)["record"].(string)
	b, err := decodeB64(rec)
	if err != nil {
		e.t.Fatal(err)
	}
	h := sha256.Sum256(b)
	m := e.must(200, e.do("POST", "/v1/setups/"+sid+"/card", staff, q(v), map[string]any{
		"card_serial": "CARD-" + sid, "read_back": b, "read_hash": hex.EncodeToString(h[:])})).json(e.t)
	return int64(m["version"].(float64))
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func cardDigest(nonce []byte) [32]byte { return cardauth.Digest(cardauth.PurposeStaffLogin, nonce) }
