package cardsapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
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

func (s *Service) nonBusinessDays(c echo.Context) error {
	out, err := s.NonBusinessDayReport(c.Request().Context(), c.Param("contract"), c.Param("month"))
	if err != nil {
		return err
	}
	return s.report(c, out)
}

// NonBusinessDayReport is the customer report of a contract's usage on its
// non-business days in a month (YYYY-MM); the API and the web pages share it.
func (s *Service) NonBusinessDayReport(ctx context.Context, contractNo, month string) ([]ReportLine, error) {
	cal, cards, usage, m, err := s.reportInputs(ctx, contractNo, month)
	if err != nil {
		return nil, err
	}
	vehicles := map[string]string{}
	for _, cr := range cards {
		vehicles[cr.Card.String()] = cr.Vehicle.String()
	}
	out := []ReportLine{}
	for _, u := range billing.NonBusinessDayUsage(m, usage, cal, s.Holidays) {
		out = append(out, line(u, vehicles[u.Card().String()]))
	}
	return out, nil
}

func (s *Service) otherVehicles(c echo.Context) error {
	out, err := s.OtherVehicleReport(c.Request().Context(), c.Param("contract"), c.Param("month"))
	if err != nil {
		return err
	}
	return s.report(c, out)
}

// OtherVehicleReport is the customer report of a contract's cards used in
// another vehicle than their own in a month (YYYY-MM).
func (s *Service) OtherVehicleReport(ctx context.Context, contractNo, month string) ([]ReportLine, error) {
	_, cards, usage, m, err := s.reportInputs(ctx, contractNo, month)
	if err != nil {
		return nil, err
	}
	uses, err := billing.OtherVehicleUsage(m, usage, cards)
	if err != nil {
		return nil, err
	}
	out := []ReportLine{}
	for _, u := range uses {
		out = append(out, line(u.Usage, u.CardVehicle.String()))
	}
	return out, nil
}
