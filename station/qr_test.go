package station_test

import (
	"strings"
	"testing"

	"github.com/gantry-etc/gantry/station"
)

func TestJoinQRCombinesStructuredAppend(t *testing.T) {
	code3 := "2/-  /123450001/270401/2004/DBA-NZE161/0060/-/0050/-/1/076/01/0/-/-/-/-/01"
	a, b, c := code3[:20], code3[20:41], code3[41:]
	got, err := station.JoinQR([]station.QRSymbol{
		{Text: "2/品川　３００あ１２３４/1/NZE161-1234567/1NZ/1"},
		{Text: c, Index: 2, Total: 3, Parity: 7},
		{Text: a, Index: 0, Total: 3, Parity: 7},
		{Text: a, Index: 0, Total: 3, Parity: 7}, // scanned twice
		{Text: b, Index: 1, Total: 3, Parity: 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1] != code3 {
		t.Fatalf("joined %q", got)
	}
	_, err = station.JoinQR([]station.QRSymbol{{Text: a, Index: 0, Total: 3, Parity: 7}, {Text: c, Index: 2, Total: 3, Parity: 7}})
	if err == nil || !strings.Contains(err.Error(), "2 of its 3 parts") {
		t.Fatalf("missing part: %v", err)
	}
}
