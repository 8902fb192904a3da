// Package certpdf renders setup certificates (セットアップ証明書) as PDF with an
// embedded Japanese TrueType font (IPA Gothic) and the verification code as
// a QR code.
package certpdf

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"strconv"

	"github.com/signintech/gopdf"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/gantry-etc/gantry/domain/certificate"
)

// DefaultFont is IPA Gothic from Debian's fonts-ipafont-gothic.
const DefaultFont = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

// Renderer renders certificates. It is safe for concurrent use (the font
// bytes are read once and shared read-only).
type Renderer struct {
	font []byte
}

// New reads the TTF font at path.
func New(path string) (*Renderer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certificate font (apt install fonts-ipafont-gothic): %w", err)
	}
	return &Renderer{font: b}, nil
}

// Render returns the PDF of content with its verification code and the URL
// where anyone can check it.
func (r *Renderer) Render(c certificate.Content, code, verifyURL string) ([]byte, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	pdf.SetInfo(gopdf.PdfInfo{Title: "Setup certificate " + c.Number, Subject: "verification " + code, Creator: "Gantry"})
	pdf.AddPage()
	if err := pdf.AddTTFFontData("ipag", r.font); err != nil {
		return nil, err
	}
	if err := pdf.SetFont("ipag", "", 20); err != nil {
		return nil, err
	}
	pdf.SetXY(50, 50)
	if err := pdf.Cell(nil, "セットアップ証明書"); err != nil {
		return nil, err
	}
	_ = pdf.SetFont("ipag", "", 12)
	towing := "なし"
	if c.Towing {
		towing = "あり"
	}
	lines := [][2]string{
		{"証明書番号", c.Number},
		{"車載器管理番号", c.OBUNumber},
		{"車種", c.VehicleType},
		{"自動車登録番号", c.Plate},
		{"車両総重量", strconv.Itoa(c.GrossWeightKg) + " kg"},
		{"けん引の有無", towing},
		{"セットアップ日", c.SetupDate.String()},
		{"セットアップ店", c.StoreID},
		{"検証コード", code},
	}
	y := 100.0
	for _, l := range lines {
		pdf.SetXY(50, y)
		_ = pdf.Cell(nil, l[0])
		pdf.SetXY(200, y)
		_ = pdf.Cell(nil, l[1])
		y += 24
	}
	qr, err := qrcode.New(verifyURL, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	var img bytes.Buffer
	if err := png.Encode(&img, qr.Image(256)); err != nil {
		return nil, err
	}
	h, err := gopdf.ImageHolderByBytes(img.Bytes())
	if err != nil {
		return nil, err
	}
	if err := pdf.ImageByHolder(h, 50, y+20, &gopdf.Rect{W: 128, H: 128}); err != nil {
		return nil, err
	}
	pdf.SetXY(190, y+70)
	_ = pdf.SetFont("ipag", "", 9)
	_ = pdf.Cell(nil, "真正性の確認: "+verifyURL)
	var out bytes.Buffer
	if _, err := pdf.WriteTo(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
