package card

// PrinterRecord is the card issuance data (カード発行情報) sent to the
// printing company by EDI, already formatted. Field order in Fields is the
// record layout.
type PrinterRecord struct {
	CustomerNameAlpha string // 顧客アルファベット名, "YAMADA UNYU CO., LTD."
	VehicleNumber     string // 自動車登録番号, "品川 300 あ 12-34"
	CardType          string // カード種類, "BLUE01"
	CardNumber        string // カード番号, 16 digits
	Expiry            string // カード有効期限年月, "YYYY/MM"
}

// PrinterRecord is the EDI record for the card this event issued (new,
// renewal or reissue alike).
func (e Issued) PrinterRecord() PrinterRecord {
	return PrinterRecord{
		CustomerNameAlpha: e.AlphaName.String(),
		VehicleNumber:     e.Vehicle.String(),
		CardType:          e.Type.String(),
		CardNumber:        e.Card.String(),
		Expiry:            e.Expiry.EDI(),
	}
}

// Fields returns the record's fields in layout order: alphabet name,
// registration number, card type, card number, expiry.
func (r PrinterRecord) Fields() []string {
	return []string{r.CustomerNameAlpha, r.VehicleNumber, r.CardType, r.CardNumber, r.Expiry}
}
