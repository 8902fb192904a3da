package billing

import (
	"cmp"
	"slices"
	"strings"

	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
)

// NonBusinessDayUsage is the non-business-day usage report (利用日確認帳票):
// the usage records of month whose usage date (entry date, Japan time) is not
// a business day of the customer's calendar. Sorted by card number, then
// entry time. A nil h knows no national holidays.
func NonBusinessDayUsage(month money.YearMonth, usage []UsageRecord, cal contract.BusinessCalendar, h contract.Holidays) []UsageRecord {
	out := []UsageRecord{}
	for _, u := range usage {
		d := u.UsageDate()
		if month.Contains(d) && !cal.IsBusinessDay(d, h) {
			out = append(out, u)
		}
	}
	sortUsage(out)
	return out
}

// OtherVehicleUse is one line of the other-vehicle usage report: the usage
// and the vehicle the card was issued for.
type OtherVehicleUse struct {
	Usage       UsageRecord
	CardVehicle contract.VehicleNumber
}

// OtherVehicleUsage is the other-vehicle usage report (利用車両確認帳票): the
// usage records of month whose vehicle registration number is not the
// vehicle the card was issued for (車両不一致; spacing ignored). A record for
// a card not in cards is ErrUnknownUsageCard. Sorted by card number, then
// entry time.
func OtherVehicleUsage(month money.YearMonth, usage []UsageRecord, cards []CardRecord) ([]OtherVehicleUse, error) {
	vehicles := make(map[card.CardNumber]contract.VehicleNumber, len(cards))
	for _, c := range cards {
		vehicles[c.Card] = c.Vehicle
	}
	var us []UsageRecord
	for _, u := range usage {
		if !month.Contains(u.UsageDate()) {
			continue
		}
		v, ok := vehicles[u.card]
		if !ok {
			return nil, ErrUnknownUsageCard.Withf("card", "Usage record %s names card %s, which is not one of the given cards.", u.Key(), u.card)
		}
		if !v.Same(u.vehicle) {
			us = append(us, u)
		}
	}
	sortUsage(us)
	out := make([]OtherVehicleUse, 0, len(us))
	for _, u := range us {
		out = append(out, OtherVehicleUse{Usage: u, CardVehicle: vehicles[u.card]})
	}
	return out, nil
}

func sortUsage(us []UsageRecord) {
	slices.SortFunc(us, func(a, b UsageRecord) int {
		return cmp.Or(strings.Compare(a.card.String(), b.card.String()), a.entryAt.Compare(b.entryAt), strings.Compare(a.Key(), b.Key()))
	})
}
