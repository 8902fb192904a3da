package domain

import "time"

// Tokyo is Japan Standard Time. Japan has kept UTC+9 without daylight saving
// since 1951, so a fixed zone is exact and needs no tzdata on the host.
var Tokyo = time.FixedZone("Asia/Tokyo", 9*60*60)

// Date is a calendar day in Japan time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the Japan-time calendar day of t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Tokyo).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Tokyo)
	if err != nil {
		return Date{}, err
	}
	return DateOf(t), nil
}

// Start is midnight at the start of d, Japan time.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Tokyo) }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Start().AddDate(0, 0, n)) }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.Start().Before(o.Start()) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) String() string { return d.Start().Format("2006-01-02") }

// MarshalText encodes "2006-01-02".
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes "2006-01-02".
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
