package contract

import (
	"encoding/json"

	"github.com/gantry-etc/gantry/domain"
)

// Lease is what the command layer found in the lease contract system for a
// lease contract number: customer name, start and end dates, and the leased
// vehicles. The domain never looks it up itself; it checks applications and
// card requests against the Lease it is given.
type Lease struct {
	number       Number
	customerName string
	start, end   domain.Date
	vehicles     []VehicleNumber
}

// NewLease validates the facts: a number, a customer name, start and end
// dates with end not before start. vehicles may be empty (no vehicle leased
// yet); duplicates (same Key) are dropped.
func NewLease(number Number, customerName string, start, end domain.Date, vehicles []VehicleNumber) (Lease, error) {
	customerName = normName(customerName)
	switch {
	case number.IsZero():
		return Lease{}, ErrInvalidLease.With("lease.contract", "The lease has no contract number.")
	case customerName == "":
		return Lease{}, ErrInvalidLease.With("lease.customer_name", "The lease has no customer name.")
	case start.IsZero() || end.IsZero():
		return Lease{}, ErrInvalidLease.With("lease.period", "The lease needs both a start and an end date.")
	case end.Before(start):
		return Lease{}, ErrInvalidLease.Withf("lease.period", "The lease ends on %s, before it starts on %s.", end, start)
	}
	seen := map[string]bool{}
	var vs []VehicleNumber
	for _, v := range vehicles {
		if v.IsZero() || seen[v.Key()] {
			continue
		}
		seen[v.Key()] = true
		vs = append(vs, v)
	}
	return Lease{number, customerName, start, end, vs}, nil
}

func (l Lease) Number() Number       { return l.number }
func (l Lease) CustomerName() string { return l.customerName }
func (l Lease) Start() domain.Date   { return l.start }
func (l Lease) End() domain.Date     { return l.end }
func (l Lease) IsZero() bool         { return l.number.IsZero() }

// Vehicles returns a copy of the leased vehicles.
func (l Lease) Vehicles() []VehicleNumber { return append([]VehicleNumber(nil), l.vehicles...) }

// Covers reports whether v is one of the leased vehicles.
func (l Lease) Covers(v VehicleNumber) bool {
	for _, x := range l.vehicles {
		if x.Same(v) {
			return true
		}
	}
	return false
}

// EndedBefore reports whether the lease ended before d (the end date itself
// is still within the lease).
func (l Lease) EndedBefore(d domain.Date) bool { return l.end.Before(d) }

type leaseJSON struct {
	Number       Number          `json:"contract"`
	CustomerName string          `json:"customer_name"`
	Start        domain.Date     `json:"start"`
	End          domain.Date     `json:"end"`
	Vehicles     []VehicleNumber `json:"vehicles"`
}

// MarshalJSON encodes the lease facts as recorded in events.
func (l Lease) MarshalJSON() ([]byte, error) {
	return json.Marshal(leaseJSON{l.number, l.customerName, l.start, l.end, l.vehicles})
}

// UnmarshalJSON decodes without re-validating: stored events are facts.
func (l *Lease) UnmarshalJSON(b []byte) error {
	var j leaseJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*l = Lease{j.Number, j.CustomerName, j.Start, j.End, j.Vehicles}
	return nil
}
