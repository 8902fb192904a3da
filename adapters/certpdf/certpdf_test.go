package certpdf_test

import (
	"bytes"
	"testing"

	"github.com/gantry-etc/gantry/adapters/certpdf"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
)

func TestRender_embeds_font_and_qr(t *testing.T) {
	r, err := certpdf.New(certpdf.DefaultFont)
	if err != nil {
		t.Fatalf("certificate font missing (install Debian's fonts-ipafont-gothic; `make test` does it through scripts/deps.sh): %v", err)
	}
	d, _ := domain.ParseDate("2026-04-01")
	b, err := r.Render(certificate.Content{Number: "SC-TEST", OBUNumber: "1234567890123456789", VehicleType: "普通乗用", Plate: "品川 300 あ 12-34", GrossWeightKg: 1850, SetupDate: d, StoreID: "S1"}, "ABCD-EFGH", "http://x/verify/ABCD")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("FontFile2")) {
		t.Fatalf("not a PDF with an embedded TrueType font")
	}
}
