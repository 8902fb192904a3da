package cardauth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// SetupRecord is what Gantry writes to a setup card (step 8): the setup,
// its store, the OBU and vehicle data of step 7 and the issue time.
type SetupRecord struct {
	Format                string    `json:"format"` // RecordFormat
	SetupID               string    `json:"setup_id"`
	StoreID               string    `json:"store_id"`
	OBUNumber             string    `json:"obu_number"`
	OBUKind               string    `json:"obu_kind"`
	Plate                 string    `json:"plate"`
	TypeDesignationNumber string    `json:"type_designation_number,omitempty"`
	CategoryNumber        string    `json:"category_number,omitempty"`
	VehicleType           string    `json:"vehicle_type,omitempty"`
	GrossWeightKg         int       `json:"gross_weight_kg,omitempty"`
	IssuedAt              time.Time `json:"issued_at"`
}

// RecordFormat names the record layout; stored on cards: never change it.
const RecordFormat = "gantry-setup-card/1"

// The card bytes are the record's JSON, a newline, and the hex signature
// of that JSON by Gantry's setup-card key (Ed25519; the command layer holds
// the key and passes the signing and checking functions, so the domain
// stays free of key handling).
var sep = []byte("\n")

// SealRecord encodes r and signs it with sign.
func SealRecord(r SetupRecord, sign func(body []byte) []byte) []byte {
	r.Format = RecordFormat
	body, _ := json.Marshal(r)
	sig := sign(body)
	return append(append(body, sep...), hex.EncodeToString(sig)...)
}

// ErrNotGantryRecord: the bytes are not a setup record Gantry signed.
var ErrNotGantryRecord = errors.New("not a setup record issued by this Gantry")

// OpenRecord checks the signature with verify and decodes the record.
func OpenRecord(b []byte, verify func(body, sig []byte) bool) (SetupRecord, error) {
	body, sigHex, ok := bytes.Cut(b, sep)
	if !ok {
		return SetupRecord{}, ErrNotGantryRecord
	}
	sig, err := hex.DecodeString(string(sigHex))
	if err != nil || !verify(body, sig) {
		return SetupRecord{}, ErrNotGantryRecord
	}
	var r SetupRecord
	if err := json.Unmarshal(body, &r); err != nil || r.Format != RecordFormat {
		return SetupRecord{}, ErrNotGantryRecord
	}
	return r, nil
}

// Hash is the hex SHA-256 of the card bytes (what the station reports).
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
