// Package invoicepdf renders an invoice (適格請求書) as PDF with a Japanese
// font (IPA Gothic, Debian package fonts-ipafont-gothic).
package invoicepdf

import (
	"bytes"
	"fmt"

	"github.com/signintech/gopdf"

	"github.com/gantry-etc/gantry/domain/billing"
)

// DefaultFont is where fonts-ipafont-gothic installs IPA Gothic.
const DefaultFont = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

// Renderer renders invoices with the TrueType font at FontPath.
type Renderer struct{ FontPath string }

// Render returns the PDF of invoice number issued on issuedOn with content st.
func (r Renderer) Render(number, issuedOn string, st billing.Statement) ([]byte, error) {
	pdf := gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	if err := pdf.AddTTFFont("ipag", r.FontPath); err != nil {
		return nil, fmt.Errorf("invoice PDF font %s: %w", r.FontPath, err)
	}
	pdf.AddPage()
	y := 40.0
	line := func(size float64, s string) error {
		if y > 800 {
			pdf.AddPage()
			y = 40
		}
		if err := pdf.SetFont("ipag", "", size); err != nil {
			return err
		}
		pdf.SetXY(40, y)
		y += size + 6
		return pdf.Cell(nil, s)
	}
	ls := []struct {
		size float64
		text string
	}{
		{18, "請求書（適格請求書）"},
		{10, "請求書番号: " + number + "　発行日: " + issuedOn},
		{10, "発行者: " + st.Issuer.Name + "　登録番号: " + st.Issuer.RegistrationNumber.String()},
		{12, st.Recipient + " 御中（契約番号 " + st.Contract.String() + "）"},
		{10, "対象期間: " + st.Period.String()},
		{12, "ご請求金額: " + st.Summary.Total.String()},
		{10, "通行料金（立替金・不課税）: " + st.Summary.Tolls.String()},
		{10, "カード発行費: " + st.Summary.IssueFees.String() + "　カード年会費: " + st.Summary.AnnualFees.String()},
	}
	for _, t := range st.Summary.Taxes {
		ls = append(ls, struct {
			size float64
			text string
		}{10, fmt.Sprintf("%d%%対象 %s　消費税 %s（端数切捨て）", t.Rate, t.Base.String(), t.Tax.String())})
	}
	for _, l := range ls {
		if err := line(l.size, l.text); err != nil {
			return nil, err
		}
	}
	for _, d := range st.Details() {
		if err := line(11, "カード番号 "+d.Card.String()+"　車両 "+d.Vehicle.String()); err != nil {
			return nil, err
		}
		for _, f := range d.Fees {
			name := "カード発行費"
			if f.Kind == billing.KindAnnualFee {
				name = "カード年会費"
			}
			if err := line(9, fmt.Sprintf("  %s %s（%d%%）", name, f.Amount.String(), f.TaxRate)); err != nil {
				return nil, err
			}
		}
		for _, u := range d.Usages {
			if err := line(9, fmt.Sprintf("  %s %s→%s 出口 %s %s %s", u.UsageDate, u.EntryIC, u.ExitIC, u.ExitAt.Format("15:04"), u.Vehicle, u.Amount.String())); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	if _, err := pdf.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
