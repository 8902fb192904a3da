package station

import (
	"fmt"
	"sort"
	"strings"
)

// QRSymbol is one decoded QR symbol of a 車検証 as the scanner reports it:
// its text and, for a symbol of a structured-append group (JIS X 0510), its
// position, the group's size and parity. A standalone symbol has Total 0.
type QRSymbol struct {
	Text   string
	Index  int // 0-based position in the group
	Total  int // symbols in the group (0 or 1: standalone)
	Parity int // the group's parity byte (identifies the group)
}

// JoinQR combines scanned symbols into one text per logical code: the
// parts of each structured-append group joined in sequence order. Scanning
// a symbol twice is harmless; a group with a part missing is an error
// naming how many parts are still to scan.
func JoinQR(symbols []QRSymbol) ([]string, error) {
	type group struct {
		total int
		parts map[int]string
	}
	groups := map[int]*group{}
	var order []int
	var out []string
	seen := map[string]bool{}
	for _, s := range symbols {
		if s.Total <= 1 {
			if !seen[s.Text] {
				seen[s.Text] = true
				out = append(out, s.Text)
			}
			continue
		}
		g, ok := groups[s.Parity]
		if !ok {
			g = &group{total: s.Total, parts: map[int]string{}}
			groups[s.Parity] = g
			order = append(order, s.Parity)
		}
		if s.Total != g.total || s.Index < 0 || s.Index >= s.Total {
			return nil, fmt.Errorf("QR symbol %d of %d does not belong with the others of its group (of %d); scan the certificate again", s.Index+1, s.Total, g.total)
		}
		g.parts[s.Index] = s.Text
	}
	sort.Ints(order)
	for _, p := range order {
		g := groups[p]
		if len(g.parts) != g.total {
			return nil, fmt.Errorf("a joined QR code has %d of its %d parts; scan the remaining %d", len(g.parts), g.total, g.total-len(g.parts))
		}
		var b strings.Builder
		for i := range g.total {
			b.WriteString(g.parts[i])
		}
		out = append(out, b.String())
	}
	return out, nil
}
