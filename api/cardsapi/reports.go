package cardsapi

import (
	"bytes"
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

func (s *Service) reportInputs(c echo.Context) (contract.BusinessCalendar, []billing.CardRecord, []billing.UsageRecord, money.YearMonth, error) {
	ctx := c.Request().Context()
	m, err := money.ParseYearMonth(c.Param("month"))
	if err != nil {
		return contract.BusinessCalendar{}, nil, nil, m, err
	}
	rows, err := s.Reader.Contracts(ctx, c.Param("contract"))
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
	cal, cards, usage, m, err := s.reportInputs(c)
	if err != nil {
		return err
	}
	vehicles := map[string]string{}
	for _, cr := range cards {
		vehicles[cr.Card.String()] = cr.Vehicle.String()
	}
	out := []ReportLine{}
	for _, u := range billing.NonBusinessDayUsage(m, usage, cal, s.Holidays) {
		out = append(out, line(u, vehicles[u.Card().String()]))
	}
	return s.report(c, out)
}

func (s *Service) otherVehicles(c echo.Context) error {
	_, cards, usage, m, err := s.reportInputs(c)
	if err != nil {
		return err
	}
	uses, err := billing.OtherVehicleUsage(m, usage, cards)
	if err != nil {
		return err
	}
	out := []ReportLine{}
	for _, u := range uses {
		out = append(out, line(u.Usage, u.CardVehicle.String()))
	}
	return s.report(c, out)
}
