package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-etc/gantry/adapters/edi"
	"github.com/gantry-etc/gantry/adapters/lease"
	"github.com/gantry-etc/gantry/api/cardsapi"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/money"
)

// Spec is the data set: Contracts leases with Cards vehicles between them
// (one card each), and Rows usage records in Month.
type Spec struct {
	Contracts   int
	Cards       int
	Rows        int
	Month       money.YearMonth
	Prefix      string // card number issuer prefix (GANTRY_CARD_PREFIX)
	FirstSerial int64  // serial of the first card issued (1 on a fresh database)
	Seed        uint64
}

// ContractNo is the i-th contract's lease number.
func ContractNo(i int) string { return fmt.Sprintf("L-DG-%04d", i+1) }

// ContractOf is the contract of the i-th card.
func (s Spec) ContractOf(i int) int { return i * s.Contracts / s.Cards }

// Vehicle is the i-th vehicle's registration number (unique for i <
// 7,000,000).
func Vehicle(i int) string {
	return fmt.Sprintf("品川 %03d あ %02d-%02d", 300+i/10000, i/100%100, i%100)
}

// CardRef is an issued card and its vehicle.
type CardRef struct{ Card, Vehicle string }

// Predicted are the card numbers a fresh database gives the cards of
// cards.jsonl issued in file order, one by one (card numbers come from a
// sequence): serial FirstSerial + i for the i-th card.
func (s Spec) Predicted() ([]CardRef, error) {
	out := make([]CardRef, s.Cards)
	for i := range out {
		n, err := card.NewCardNumber(s.Prefix, s.FirstSerial+int64(i))
		if err != nil {
			return nil, err
		}
		out[i] = CardRef{Card: n.String(), Vehicle: Vehicle(i)}
	}
	return out, nil
}

// ReadCardList reads card,vehicle lines (what the post mode writes to
// issued.csv).
func ReadCardList(path string) ([]CardRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]CardRef, 0, len(rows))
	for _, r := range rows {
		if len(r) != 2 {
			return nil, fmt.Errorf("%s: want card,vehicle lines", path)
		}
		out = append(out, CardRef{Card: r[0], Vehicle: r[1]})
	}
	return out, nil
}

// WriteLeases writes the lease registry's import file (gantry lease
// import): one lease per contract with its vehicles.
func (s Spec) WriteLeases(out io.Writer) error {
	w := csv.NewWriter(out)
	if err := w.Write(strings.Split(lease.CSVHeader, ",")); err != nil {
		return err
	}
	for c := 0; c < s.Contracts; c++ {
		var vs []string
		for i := 0; i < s.Cards; i++ {
			if s.ContractOf(i) == c {
				vs = append(vs, Vehicle(i))
			}
		}
		if err := w.Write([]string{ContractNo(c), fmt.Sprintf("株式会社 データ運輸 %04d", c+1), "2026-01-01", "2028-03-31", strings.Join(vs, ";")}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// WriteContracts writes one POST /v1/contracts body per line.
func (s Spec) WriteContracts(out io.Writer) error {
	enc := json.NewEncoder(out)
	for c := 0; c < s.Contracts; c++ {
		if err := enc.Encode(s.Contract(c)); err != nil {
			return err
		}
	}
	return nil
}

// Contract is the c-th contract's application.
func (s Spec) Contract(c int) cardsapi.ContractRequest {
	return cardsapi.ContractRequest{Contract: ContractNo(c), CustomerName: fmt.Sprintf("株式会社 データ運輸 %04d", c+1),
		AlphaName: fmt.Sprintf("DATA UNYU %04d CO., LTD.", c+1), Address: "東京都品川区1-2-3", Phone: "03-1234-5678", Representative: "山田 太郎",
		BankCode: "0001", BranchCode: "123", AccountType: "ordinary", AccountNumber: fmt.Sprintf("%07d", c+1), HolderKana: "データウンユ"}
}

// WriteCards writes one POST /v1/cards body per line, in issue order.
func (s Spec) WriteCards(out io.Writer) error {
	enc := json.NewEncoder(out)
	for i := 0; i < s.Cards; i++ {
		if err := enc.Encode(s.Card(i)); err != nil {
			return err
		}
	}
	return nil
}

// Card is the i-th card's issue request.
func (s Spec) Card(i int) cardsapi.IssueRequest {
	return cardsapi.IssueRequest{Contract: ContractNo(s.ContractOf(i)), Vehicle: Vehicle(i), CardType: "BLUE01"}
}

var (
	operators = []string{"NEXCO-E", "NEXCO-C", "NEXCO-W", "MEX", "HEX"}
	ics       = []string{"東京", "厚木", "横浜", "名古屋", "豊田", "岡崎", "大阪", "京都", "神戸", "浦和"}
)

// WriteUsage writes a road operator usage file (docs/usage-format.md) of
// s.Rows passages in s.Month by the given cards, deterministic for s.Seed;
// about one passage in a hundred is by another vehicle than the card's.
func (s Spec) WriteUsage(out io.Writer, cards []CardRef) error {
	if len(cards) == 0 {
		return fmt.Errorf("no cards to use")
	}
	w := bufio.NewWriterSize(out, 1<<20)
	if _, err := w.WriteString(edi.UsageHeader + "\n"); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(s.Seed, uint64(s.Month.Month())))
	first := s.Month.FirstDay().Start()
	days := s.Month.LastDay().Day
	line := make([]byte, 0, 200)
	for i := 0; i < s.Rows; i++ {
		c := cards[r.IntN(len(cards))]
		v := c.Vehicle
		if r.IntN(100) == 0 {
			v = Vehicle(r.IntN(7_000_000))
		}
		entry := first.Add(time.Duration(r.IntN(days*24*3600)) * time.Second)
		exit := entry.Add(time.Duration(10+r.IntN(110)) * time.Minute)
		line = line[:0]
		line = append(line, "DG-"...)
		line = append(line, s.Month.String()...)
		line = append(line, '-')
		line = strconv.AppendInt(line, int64(i+1), 10)
		line = append(line, ',')
		line = append(line, operators[i%len(operators)]...)
		line = append(line, ',')
		line = append(line, c.Card...)
		line = append(line, ',')
		line = append(line, v...)
		line = append(line, ',')
		line = append(line, ics[r.IntN(len(ics))]...)
		line = append(line, ',')
		line = entry.In(domain.Tokyo).AppendFormat(line, edi.UsageTimeLayout)
		line = append(line, ',')
		line = append(line, ics[r.IntN(len(ics))]...)
		line = append(line, ',')
		line = exit.In(domain.Tokyo).AppendFormat(line, edi.UsageTimeLayout)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(100+r.IntN(4900)), 10)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return w.Flush()
}
