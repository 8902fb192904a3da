package money

import (
	"strconv"
)

// Yen is an amount of Japanese yen. Amounts are whole yen; there are no
// fractions anywhere in billing. It may be negative only in adjustments
// (credits).
type Yen int64

// String formats y as "¥1,234" (or "-¥1,234").
func (y Yen) String() string {
	neg := y < 0
	n := int64(y)
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3+2)
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if neg {
		return "-¥" + string(out)
	}
	return "¥" + string(out)
}
