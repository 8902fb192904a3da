package cards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/projections"
)

// Reader answers queries from the views (and usage_records). The personal
// values the cards view keeps sealed (customer names, plates) are opened
// with the contracts' keys fetched fresh for each read (Keys), so a
// destroyed key reads as erased at once, whichever process destroyed it.
type Reader struct {
	Pool *pgxpool.Pool
	Keys KeyFetcher
	// Claims finds the cards a vehicle was issued to; the view keeps no
	// plate it could search by.
	Claims VehicleCards
}

// KeyFetcher fetches the keys of data subjects in one read
// (es.Sealer.Keys), or unwraps the ones a query read with its rows
// (es.Sealer.Ring).
type KeyFetcher interface {
	Keys(ctx context.Context, subjects []string) (*es.Keyring, error)
	Ring(wrapped map[string][]byte) (*es.Keyring, error)
}

// VehicleCards lists every card ever issued to a vehicle (its claim
// stream, commands/cards).
type VehicleCards interface {
	CardsOf(ctx context.Context, v contract.VehicleNumber) ([]string, error)
}

// ClaimStreamCards implements VehicleCards from the vehicle's claim stream.
type ClaimStreamCards struct {
	Streams StreamLoader
	// StreamOf names a vehicle's claim stream (commands/cards.VehicleStream).
	StreamOf func(contract.VehicleNumber) string
}

// CardsOf lists the cards the vehicle's claim stream has claimed.
func (c ClaimStreamCards) CardsOf(ctx context.Context, v contract.VehicleNumber) ([]string, error) {
	var out []string
	_, err := c.Streams.Load(ctx, c.StreamOf(v), func(e domain.Event) {
		if cl, ok := e.(card.VehicleClaimed); ok {
			out = append(out, cl.Card.String())
		}
	})
	return out, err
}

// openAll opens each row's sealed value under its contract; erased rows
// give "" (ok false).
func (r Reader) openAll(ctx context.Context, contracts []string, sealed [][]byte) (plain [][]byte, err error) {
	ring, err := r.Keys.Keys(ctx, contracts)
	if err != nil {
		return nil, err
	}
	plain = make([][]byte, len(sealed))
	for i := range sealed {
		p, ok, err := ring.Open(contracts[i], sealed[i])
		if err != nil {
			return nil, fmt.Errorf("cards view row of contract %s: %w", contracts[i], err)
		}
		if ok {
			plain[i] = p
		}
	}
	return plain, nil
}

var (
	cardsT     = projections.Schema(CardsName) + ".cards"
	contractsT = projections.Schema(CardsName) + ".contracts"
	docsT      = projections.Schema(InvoicesName) + ".documents"
)

// ContractRow is a concluded contract. Erased: the contract's key is
// destroyed, so its names read as "".
type ContractRow struct {
	Contract     string                    `json:"contract"`
	CustomerName string                    `json:"customer_name"`
	AlphaName    string                    `json:"alpha_name"`
	Erased       bool                      `json:"erased,omitempty"`
	LeaseStart   string                    `json:"lease_start"`
	LeaseEnd     string                    `json:"lease_end"`
	BusinessDays contract.BusinessCalendar `json:"business_days"`
	ConcludedOn  string                    `json:"concluded_on"`
}

// Contracts lists contracts, all or one.
func (r Reader) Contracts(ctx context.Context, only string) ([]ContractRow, error) {
	rows, err := r.Pool.Query(ctx, `SELECT contract, names, lease_start::text, lease_end::text, business_days, concluded_on::text
		FROM `+contractsT+` WHERE $1 = '' OR contract = $1 ORDER BY contract`, only)
	if err != nil {
		return nil, err
	}
	out := []ContractRow{}
	var subjects []string
	var sealed [][]byte
	for rows.Next() {
		var c ContractRow
		var cal, n []byte
		if err := rows.Scan(&c.Contract, &n, &c.LeaseStart, &c.LeaseEnd, &cal, &c.ConcludedOn); err != nil {
			rows.Close()
			return nil, err
		}
		_ = json.Unmarshal(cal, &c.BusinessDays)
		out = append(out, c)
		subjects, sealed = append(subjects, c.Contract), append(sealed, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	plain, err := r.openAll(ctx, subjects, sealed)
	if err != nil {
		return nil, err
	}
	for i := range out {
		var n names
		if plain[i] == nil || json.Unmarshal(plain[i], &n) != nil {
			out[i].Erased = true
			continue
		}
		out[i].CustomerName, out[i].AlphaName = n.CustomerName, n.AlphaName
	}
	return out, nil
}

// CardRow is a card's status. Vehicle is "" once the contract's key is
// destroyed (Erased).
type CardRow struct {
	Card            string  `json:"card"`
	Contract        string  `json:"contract"`
	Vehicle         string  `json:"vehicle"`
	Erased          bool    `json:"erased,omitempty"`
	Type            string  `json:"card_type"`
	Expiry          string  `json:"expiry"`
	State           string  `json:"state"`
	StateLabel      string  `json:"state_label"`
	FirstIssuedOn   string  `json:"first_issued_on"`
	IssuedOn        string  `json:"issued_on"`
	Reason          string  `json:"reason"`
	Previous        string  `json:"previous,omitempty"`
	Successor       string  `json:"successor,omitempty"`
	EndedOn         *string `json:"ended_on,omitempty"`
	RenewalNoticeOn *string `json:"renewal_notice_on,omitempty"`
	Version         int64   `json:"version"`
}

// CardFilter selects cards; empty fields match all. RenewalDueBy (YYYY-MM)
// selects in-use cards expiring by that month (renewals due).
type CardFilter struct {
	Card, Contract, Vehicle, State, RenewalDueBy string
	// NoticeFrom..NoticeTo (YYYY-MM, inclusive; either may be ""): cards in
	// use whose renewal notice falls due in that window (the domain's
	// card.RenewalNoticeMonth of their expiry), sent or not.
	NoticeFrom, NoticeTo string
}

// expiryWindow turns the notice window into expiry months ("" for open).
func (f CardFilter) expiryWindow() (from, to string, err error) {
	for _, x := range []struct {
		in  string
		out *string
	}{{f.NoticeFrom, &from}, {f.NoticeTo, &to}} {
		if x.in == "" {
			continue
		}
		m, err := money.ParseYearMonth(x.in)
		if err != nil {
			return "", "", err
		}
		*x.out = card.ExpiryNoticedIn(m).String()
	}
	return from, to, nil
}

// Cards lists cards by filter, in card number order (all of them: for
// billing; the API reads CardsPage).
func (r Reader) Cards(ctx context.Context, f CardFilter) ([]CardRow, error) {
	return r.cards(ctx, f, "", 0)
}

// Card reads one card, with its contract's key in the same query (one
// round trip: the view row joined with the key table row, so a destroyed
// key reads as erased from the next read on). card.ErrCardNotFound when
// there is no such card.
func (r Reader) Card(ctx context.Context, number string) (CardRow, error) {
	var c CardRow
	var v, wrapped []byte
	err := r.Pool.QueryRow(ctx, `SELECT c.card, c.contract, c.vehicle, c.card_type, c.expiry, c.state, c.first_issued_on::text, c.issued_on::text, c.reason,
		c.previous, c.successor, c.ended_on::text, c.renewal_notice_on::text, c.version, k.wrapped_key
		FROM `+cardsT+` c LEFT JOIN subject_keys k ON k.subject = c.contract WHERE c.card = $1`, number).Scan(
		&c.Card, &c.Contract, &v, &c.Type, &c.Expiry, &c.State, &c.FirstIssuedOn, &c.IssuedOn, &c.Reason, &c.Previous, &c.Successor,
		&c.EndedOn, &c.RenewalNoticeOn, &c.Version, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return CardRow{}, card.ErrCardNotFound
	}
	if err != nil {
		return CardRow{}, err
	}
	c.StateLabel = card.State(c.State).Label()
	ring, err := r.Keys.Ring(map[string][]byte{c.Contract: wrapped})
	if err != nil {
		return CardRow{}, err
	}
	plain, ok, err := ring.Open(c.Contract, v)
	if err != nil {
		return CardRow{}, fmt.Errorf("cards view row of contract %s: %w", c.Contract, err)
	}
	c.Vehicle, c.Erased = string(plain), !ok
	return c, nil
}

// cards lists the cards after card number after (""), at most limit (0:
// all).
func (r Reader) cards(ctx context.Context, f CardFilter, after string, limit int) ([]CardRow, error) {
	// The view keeps no plate to search by: a vehicle filter becomes the
	// cards of the vehicle's claim stream (none for a malformed plate).
	var ofVehicle []string
	if f.Vehicle != "" {
		v, err := contract.ParseVehicleNumber(f.Vehicle)
		if err != nil {
			return []CardRow{}, nil
		}
		if ofVehicle, err = r.Claims.CardsOf(ctx, v); err != nil {
			return nil, err
		}
		if len(ofVehicle) == 0 {
			return []CardRow{}, nil
		}
	}
	expFrom, expTo, err := f.expiryWindow()
	if err != nil {
		return nil, err
	}
	rows, err := r.Pool.Query(ctx, `SELECT card, contract, vehicle, card_type, expiry, state, first_issued_on::text, issued_on::text, reason, previous, successor,
		ended_on::text, renewal_notice_on::text, version FROM `+cardsT+`
		WHERE ($1 = '' OR card = $1) AND ($2 = '' OR contract = $2) AND ($3::text[] IS NULL OR card = ANY($3)) AND ($4 = '' OR state = $4)
		AND ($5 = '' OR (state = 'in_use' AND expiry <= $5)) AND ($6 = '' OR card > $6)
		AND ($8 = '' OR (state = 'in_use' AND expiry >= $8)) AND ($9 = '' OR (state = 'in_use' AND expiry <= $9))
		ORDER BY card LIMIT NULLIF($7, 0)`, f.Card, f.Contract, ofVehicle, f.State, f.RenewalDueBy, after, limit, expFrom, expTo)
	if err != nil {
		return nil, err
	}
	out := []CardRow{}
	var subjects []string
	var sealed [][]byte
	for rows.Next() {
		var c CardRow
		var v []byte
		if err := rows.Scan(&c.Card, &c.Contract, &v, &c.Type, &c.Expiry, &c.State, &c.FirstIssuedOn, &c.IssuedOn, &c.Reason, &c.Previous, &c.Successor,
			&c.EndedOn, &c.RenewalNoticeOn, &c.Version); err != nil {
			rows.Close()
			return nil, err
		}
		c.StateLabel = card.State(c.State).Label()
		out = append(out, c)
		subjects, sealed = append(subjects, c.Contract), append(sealed, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	plain, err := r.openAll(ctx, subjects, sealed)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Vehicle, out[i].Erased = string(plain[i]), plain[i] == nil
	}
	return out, nil
}

// CardRecords are the billing facts of a contract's cards.
func (r Reader) CardRecords(ctx context.Context, contractNo string) ([]billing.CardRecord, error) {
	cs, err := r.Cards(ctx, CardFilter{Contract: contractNo})
	if err != nil {
		return nil, err
	}
	out := make([]billing.CardRecord, 0, len(cs))
	for _, c := range cs {
		rec := billing.CardRecord{Reason: card.IssueReason(c.Reason)}
		rec.Card, _ = card.ParseCardNumber(c.Card)
		rec.Vehicle, _ = contract.ParseVehicleNumber(c.Vehicle)
		rec.FirstIssuedOn, _ = domain.ParseDate(c.FirstIssuedOn)
		rec.IssuedOn, _ = domain.ParseDate(c.IssuedOn)
		if c.EndedOn != nil {
			rec.EndedOn, _ = domain.ParseDate(*c.EndedOn)
		}
		if c.Previous != "" {
			rec.Previous, _ = card.ParseCardNumber(c.Previous)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Usage returns the usage records of the given cards with usage dates in month.
func (r Reader) Usage(ctx context.Context, cards []billing.CardRecord, month money.YearMonth) ([]billing.UsageRecord, error) {
	nums := make([]string, len(cards))
	for i, c := range cards {
		nums[i] = c.Card.String()
	}
	rows, err := r.Pool.Query(ctx, `SELECT record_id, operator, card, vehicle, entry_ic, entry_at, exit_ic, exit_at, toll FROM usage_records
		WHERE card = ANY($1) AND usage_date BETWEEN $2 AND $3 ORDER BY card, entry_at`, nums, month.FirstDay().String(), month.LastDay().String())
	if err != nil {
		return nil, err
	}
	out := []billing.UsageRecord{}
	for rows.Next() {
		var f billing.UsageFields
		if err := rows.Scan(&f.RecordID, &f.Operator, &f.Card, &f.Vehicle, &f.EntryIC, &f.EntryAt, &f.ExitIC, &f.ExitAt, &f.Toll); err != nil {
			rows.Close()
			return nil, err
		}
		u, err := billing.NewUsageRecord(f)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	rows.Close()
	return out, rows.Err()
}

// UsageCount counts all usage records (tests assert nothing was written).
func (r Reader) UsageCount(ctx context.Context) (int, error) {
	var n int
	err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM usage_records`).Scan(&n)
	return n, err
}

// DocumentRow is an invoice or adjustment as filed.
type DocumentRow struct {
	Number   string `json:"number"`
	Kind     string `json:"kind"`
	Invoice  string `json:"invoice"`
	Contract string `json:"contract"`
	Customer string `json:"customer"`
	Period   string `json:"period"`
	IssuedOn string `json:"issued_on"`
	Tolls    int64  `json:"tolls"`
	Fees     int64  `json:"fees"`
	Tax      int64  `json:"tax"`
	Total    int64  `json:"total"`
}

// DocumentFilter combines any of: issue date range, amount range (total),
// customer (contract number or part of the name), period.
type DocumentFilter struct {
	IssuedFrom, IssuedTo string // YYYY-MM-DD, inclusive
	MinTotal, MaxTotal   *int64
	Customer             string
	Period               string
}

// Documents searches invoices and adjustments (all of them; the API reads
// DocumentsPage).
func (r Reader) Documents(ctx context.Context, f DocumentFilter) ([]DocumentRow, error) {
	return r.documents(ctx, f, nil, 0)
}

// documents searches after the (issued_on, number) key after (nil), at
// most limit (0: all).
func (r Reader) documents(ctx context.Context, f DocumentFilter, after []string, limit int) ([]DocumentRow, error) {
	var from, to *time.Time
	if f.IssuedFrom != "" {
		d, err := domain.ParseDate(f.IssuedFrom)
		if err != nil {
			return nil, err
		}
		t := d.Start()
		from = &t
	}
	if f.IssuedTo != "" {
		d, err := domain.ParseDate(f.IssuedTo)
		if err != nil {
			return nil, err
		}
		t := d.Start()
		to = &t
	}
	rows, err := r.Pool.Query(ctx, `SELECT number, kind, invoice, contract, customer, period, issued_on::text, tolls, fees, tax, total FROM `+docsT+`
		WHERE ($1::date IS NULL OR issued_on >= $1::date) AND ($2::date IS NULL OR issued_on <= $2::date)
		AND ($3::bigint IS NULL OR total >= $3) AND ($4::bigint IS NULL OR total <= $4)
		AND ($5 = '' OR contract = $5 OR customer ILIKE '%' || $5 || '%') AND ($6 = '' OR period = $6)
		AND ($7 = '' OR (issued_on, number) > (NULLIF($7, '')::date, $8))
		ORDER BY issued_on, number LIMIT NULLIF($9, 0)`, from, to, f.MinTotal, f.MaxTotal, f.Customer, f.Period, key(after, 0), key(after, 1), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DocumentRow])
}

// MonthTotal is the billing total of one month (invoices and adjustments).
type MonthTotal struct {
	Period      string `json:"period"`
	Invoices    int    `json:"invoices"`
	Adjustments int    `json:"adjustments"`
	Tolls       int64  `json:"tolls"`
	Fees        int64  `json:"fees"`
	Tax         int64  `json:"tax"`
	Total       int64  `json:"total"`
}

// Totals returns one page of billing totals per month, oldest first (all
// months when period is ""), keyset on the month.
func (r Reader) Totals(ctx context.Context, period string, page projections.PageRequest) (projections.Page[MonthTotal], error) {
	rows, err := r.Pool.Query(ctx, `SELECT period, count(*) FILTER (WHERE kind = 'invoice')::int, count(*) FILTER (WHERE kind <> 'invoice')::int,
		sum(tolls)::bigint, sum(fees)::bigint, sum(tax)::bigint, sum(total)::bigint FROM `+docsT+`
		WHERE ($1 = '' OR period = $1) AND period > $2 GROUP BY period ORDER BY period LIMIT $3`, period, page.Key(0), page.Limit())
	if err != nil {
		return projections.Page[MonthTotal]{}, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MonthTotal])
	return projections.Paginate(page, out, func(t MonthTotal) []string { return []string{t.Period} }), err
}

// AllTotals returns the billing totals of every month, oldest first,
// following Totals' pages (a few hundred months at most: the web chart).
func (r Reader) AllTotals(ctx context.Context) ([]MonthTotal, error) {
	var out []MonthTotal
	for page := (projections.PageRequest{Size: projections.MaxPageSize}); ; {
		p, err := r.Totals(ctx, "", page)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		if page, err = projections.ParsePage(p.Next, page.Size); err != nil {
			return nil, err
		}
	}
}

// ExpiredInUse lists the cards in use whose expiry month is before month:
// the month-end job's due work (commands/cards.DueCards).
func (r Reader) ExpiredInUse(ctx context.Context, before money.YearMonth) ([]card.CardNumber, error) {
	return r.cardNumbers(ctx, `SELECT card FROM `+cardsT+` WHERE state = 'in_use' AND expiry < $1 ORDER BY card`, before.String())
}

// RenewalNoticeCandidates lists the cards in use without a recorded renewal
// notice that expire by month: the renewal-notice job's due work.
func (r Reader) RenewalNoticeCandidates(ctx context.Context, by money.YearMonth) ([]card.CardNumber, error) {
	return r.cardNumbers(ctx, `SELECT card FROM `+cardsT+` WHERE state = 'in_use' AND renewal_notice_on IS NULL AND expiry <= $1 ORDER BY card`, by.String())
}

func (r Reader) cardNumbers(ctx context.Context, query string, args ...any) ([]card.CardNumber, error) {
	rows, err := r.Pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make([]card.CardNumber, len(found))
	for i, s := range found {
		if out[i], err = card.ParseCardNumber(s); err != nil {
			return nil, fmt.Errorf("card view row %q: %w", s, err)
		}
	}
	return out, nil
}
