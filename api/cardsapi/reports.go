package cardsapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	"github.com/gantry-etc/gantry/projections"
)

// ReportLine is one usage in a customer report.
type ReportLine struct {
	Card        string `json:"card"`
	CardVehicle string `json:"card_vehicle"`
	Vehicle     string `json:"vehicle"`
	UsageDate   string `json:"usage_date"`
	Operator    string `json:"operator"`
	RecordID    string `json:"record_id"`
	EntryIC     string `json:"entry_ic"`
	EntryAt     string `json:"entry_at"`
	ExitIC      string `json:"exit_ic"`
	ExitAt      string `json:"exit_at"`
	Toll        int64  `json:"toll"`
}

func line(u billing.UsageRecord, cardVehicle string) ReportLine {
	return ReportLine{Card: u.Card().String(), CardVehicle: cardVehicle, Vehicle: u.Vehicle().String(), UsageDate: u.UsageDate().String(),
		Operator: u.Operator(), RecordID: u.RecordID(), EntryIC: u.EntryIC(), EntryAt: u.EntryAt().In(domain.Tokyo).Format("2006-01-02 15:04:05"),
		ExitIC: u.ExitIC(), ExitAt: u.ExitAt().In(domain.Tokyo).Format("2006-01-02 15:04:05"), Toll: int64(u.Toll())}
}

func (s *Service) reportInputs(ctx context.Context, contractNo, month string) (contract.BusinessCalendar, []billing.CardRecord, []billing.UsageRecord, money.YearMonth, error) {
	m, err := money.ParseYearMonth(month)
	if err != nil {
		return contract.BusinessCalendar{}, nil, nil, m, err
	}
	rows, err := s.Reader.Contracts(ctx, contractNo)
	if err != nil {
		return contract.BusinessCalendar{}, nil, nil, m, err
	}
	if len(rows) == 0 {
		return contract.BusinessCalendar{}, nil, nil, m, contract.ErrContractNotFound
	}
	cards, err := s.Reader.CardRecords(ctx, rows[0].Contract)
	if err != nil {
		return contract.BusinessCalendar{}, nil, nil, m, err
	}
	usage, err := s.Reader.Usage(ctx, cards, m)
	return rows[0].BusinessDays, cards, usage, m, err
}

func (s *Service) report(c echo.Context, lines []ReportLine) error {
	if c.QueryParam("format") != "csv" {
		return c.JSON(http.StatusOK, lines)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"card", "card_vehicle", "vehicle", "usage_date", "operator", "record_id", "entry_ic", "entry_at", "exit_ic", "exit_at", "toll"})
	for _, l := range lines {
		_ = w.Write([]string{l.Card, l.CardVehicle, l.Vehicle, l.UsageDate, l.Operator, l.RecordID, l.EntryIC, l.EntryAt, l.ExitIC, l.ExitAt, strconv.FormatInt(l.Toll, 10)})
	}
	w.Flush()
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// reportFunc computes a whole customer report, its lines in the domain's
// order (card, entry time, usage key) with their sort keys.
type reportFunc func(ctx context.Context, contractNo, month string) ([]keyedLine, error)

// keyedLine is a report line and its place in the report's order.
type keyedLine struct {
	ReportLine
	card  string
	entry time.Time
	key   string
}

func keyed(u billing.UsageRecord, cardVehicle string) keyedLine {
	return keyedLine{ReportLine: line(u, cardVehicle), card: u.Card().String(), entry: u.EntryAt(), key: u.Key()}
}

// after reports whether l comes after the cursor's line.
func (l keyedLine) after(card string, entry time.Time, key string) bool {
	return cmp.Or(strings.Compare(l.card, card), l.entry.Compare(entry), strings.Compare(l.key, key)) > 0
}

// reportPage is one page of a report: the lines after the cursor's (card,
// entry time, usage key), page.Size of them. The report is computed whole
// (one contract's month), so a page costs what the whole report costs; the
// answer is what is small.
func reportPage(ctx context.Context, f reportFunc, contractNo, month string, page projections.PageRequest) (projections.Page[ReportLine], error) {
	var card, key string
	var entry time.Time
	if len(page.After) > 0 {
		var err error
		if entry, err = time.Parse(time.RFC3339Nano, page.Key(1)); err != nil || len(page.After) != 3 {
			return projections.Page[ReportLine]{}, projections.ErrBadCursor
		}
		card, key = page.Key(0), page.Key(2)
	}
	lines, err := f(ctx, contractNo, month)
	if err != nil {
		return projections.Page[ReportLine]{}, err
	}
	if len(page.After) > 0 {
		i := slices.IndexFunc(lines, func(l keyedLine) bool { return l.after(card, entry, key) })
		if i < 0 {
			i = len(lines)
		}
		lines = lines[i:]
	}
	lines = lines[:min(len(lines), page.Limit())]
	p := projections.Paginate(page, lines, func(l keyedLine) []string {
		return []string{l.card, l.entry.UTC().Format(time.RFC3339Nano), l.key}
	})
	out := projections.Page[ReportLine]{Items: make([]ReportLine, len(p.Items)), Next: p.Next}
	for i, l := range p.Items {
		out.Items[i] = l.ReportLine
	}
	return out, nil
}

// whole is the whole report's lines (the CSV download and the web page).
func whole(ctx context.Context, f reportFunc, contractNo, month string) ([]ReportLine, error) {
	lines, err := f(ctx, contractNo, month)
	out := make([]ReportLine, len(lines))
	for i, l := range lines {
		out[i] = l.ReportLine
	}
	return out, err
}

// serveReport answers a report route: a page of JSON lines, or with
// format=csv the whole report as one CSV download (limit and cursor do not
// apply to it).
func (s *Service) serveReport(c echo.Context, f reportFunc) error {
	if c.QueryParam("format") == "csv" {
		lines, err := whole(c.Request().Context(), f, c.Param("contract"), c.Param("month"))
		if err != nil {
			return err
		}
		return s.report(c, lines)
	}
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	lines, err := reportPage(c.Request().Context(), f, c.Param("contract"), c.Param("month"), page)
	return api.Paged(c, lines, err)
}

func (s *Service) nonBusinessDays(c echo.Context) error {
	return s.serveReport(c, s.nonBusinessDayLines)
}

// NonBusinessDayReport is the whole customer report of a contract's usage
// on its non-business days in a month (YYYY-MM); the web page shows it.
func (s *Service) NonBusinessDayReport(ctx context.Context, contractNo, month string) ([]ReportLine, error) {
	return whole(ctx, s.nonBusinessDayLines, contractNo, month)
}

func (s *Service) nonBusinessDayLines(ctx context.Context, contractNo, month string) ([]keyedLine, error) {
	cal, cards, usage, m, err := s.reportInputs(ctx, contractNo, month)
	if err != nil {
		return nil, err
	}
	vehicles := map[string]string{}
	for _, cr := range cards {
		vehicles[cr.Card.String()] = cr.Vehicle.String()
	}
	out := []keyedLine{}
	for _, u := range billing.NonBusinessDayUsage(m, usage, cal, s.Holidays) {
		out = append(out, keyed(u, vehicles[u.Card().String()]))
	}
	return out, nil
}

func (s *Service) otherVehicles(c echo.Context) error { return s.serveReport(c, s.otherVehicleLines) }

// OtherVehicleReport is the whole customer report of a contract's cards
// used in another vehicle than their own in a month (YYYY-MM).
func (s *Service) OtherVehicleReport(ctx context.Context, contractNo, month string) ([]ReportLine, error) {
	return whole(ctx, s.otherVehicleLines, contractNo, month)
}

func (s *Service) otherVehicleLines(ctx context.Context, contractNo, month string) ([]keyedLine, error) {
	_, cards, usage, m, err := s.reportInputs(ctx, contractNo, month)
	if err != nil {
		return nil, err
	}
	uses, err := billing.OtherVehicleUsage(m, usage, cards)
	if err != nil {
		return nil, err
	}
	out := []keyedLine{}
	for _, u := range uses {
		out = append(out, keyed(u.Usage, u.CardVehicle.String()))
	}
	return out, nil
}
