// Command datagen writes the billing data set of issue 13 in Gantry's real
// input formats, and can post its contracts and cards to a running server:
//
//	go run ./test/datagen files -dir D [-contracts 100 -cards 100000 -rows 5000000 -month 2026-11]
//	go run ./test/datagen post  -dir D -url http://127.0.0.1:8080 -admin ID:PASSWORD [-workers 16]
//	go run ./test/datagen usage -dir D -card-list D/issued.csv [-rows … -month …]
//
// files writes D/leases.csv (gantry lease import), D/contracts.jsonl and
// D/cards.jsonl (one POST /v1/contracts and POST /v1/cards body per line)
// and D/usage-YYYY-MM.csv (gantry usage import), whose card numbers are the
// ones a fresh database gives cards.jsonl issued in order. post concludes
// the contracts and issues the cards over HTTP, writes D/issued.csv (the
// numbers answered) and prints the issue rate of the first and of the last
// 1,000 cards; usage rewrites the usage file for the numbers of a card list.
// The README ("Data set at volume") gives the whole run.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantry-etc/gantry/domain/money"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "datagen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: datagen files|post|usage [flags] (see go doc ./test/datagen)")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	dir := fs.String("dir", "datagen-out", "output directory")
	contracts := fs.Int("contracts", 100, "contracts (leases)")
	cards := fs.Int("cards", 100_000, "cards (one vehicle each), spread over the contracts")
	rows := fs.Int("rows", 5_000_000, "usage records")
	month := fs.String("month", "2026-11", "usage month YYYY-MM")
	prefix := fs.String("prefix", "91234", "card number prefix (GANTRY_CARD_PREFIX)")
	first := fs.Int64("first-serial", 1, "serial of the first card issued (1 on a fresh database)")
	seed := fs.Uint64("seed", 13, "random seed of the usage records")
	cardList := fs.String("card-list", "", "usage: card,vehicle lines to use instead of the predicted numbers")
	url := fs.String("url", "http://127.0.0.1:8080", "post: the server")
	admin := fs.String("admin", "", "post: operator admin ID:PASSWORD (GANTRY_BOOTSTRAP_ADMIN)")
	workers := fs.Int("workers", 16, "post: concurrent requests")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	m, err := money.ParseYearMonth(*month)
	if err != nil {
		return err
	}
	s := Spec{Contracts: *contracts, Cards: *cards, Rows: *rows, Month: m, Prefix: *prefix, FirstSerial: *first, Seed: *seed}
	if s.Contracts < 1 || s.Cards < s.Contracts {
		return fmt.Errorf("want at least one contract and at least as many cards as contracts")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	switch args[0] {
	case "files":
		cards, err := s.Predicted()
		if err != nil {
			return err
		}
		return s.WriteFiles(*dir, cards)
	case "usage":
		if *cardList == "" {
			return fmt.Errorf("usage needs -card-list")
		}
		cards, err := ReadCardList(*cardList)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(*dir, UsageFile(m)), func(f *os.File) error { return s.WriteUsage(f, cards) })
	case "post":
		token, err := Login(*url, *admin)
		if err != nil {
			return err
		}
		return s.Post(os.Stdout, *dir, *url, token, *workers)
	}
	return fmt.Errorf("unknown mode %q: files, post or usage", args[0])
}

// UsageFile is the usage file's name for month m.
func UsageFile(m money.YearMonth) string { return "usage-" + m.String() + ".csv" }

// WriteFiles writes the four input files into dir.
func (s Spec) WriteFiles(dir string, cards []CardRef) error {
	for name, write := range map[string]func(*os.File) error{
		"leases.csv":       func(f *os.File) error { return s.WriteLeases(f) },
		"contracts.jsonl":  func(f *os.File) error { return s.WriteContracts(f) },
		"cards.jsonl":      func(f *os.File) error { return s.WriteCards(f) },
		UsageFile(s.Month): func(f *os.File) error { return s.WriteUsage(f, cards) },
	} {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
