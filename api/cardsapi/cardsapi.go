// Package cardsapi is the HTTP API of the corporate ETC card business:
// contracts and cards (operator_admin), usage import, billing, invoices and
// customer reports (finance).
package cardsapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/billing"
	"github.com/gantry-etc/gantry/domain/card"
	"github.com/gantry-etc/gantry/domain/contract"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
	projruns "github.com/gantry-etc/gantry/projections/runs"
)

// Service is what the routes call.
type Service struct {
	Conclude  cmdcards.ConcludeContractHandler
	Issue     cmdcards.IssueCardHandler
	Renew     cmdcards.RenewCardHandler
	Reissue   cmdcards.ReissueCardHandler
	Usage     cmdcards.ImportUsageHandler
	Billing   cmdcards.RunBillingHandler
	Reader    projcards.Reader
	Invoices  projcards.InvoiceReader
	Holidays  contract.Holidays
	WaitFor   func(ctx context.Context, pos es.Position) error
	RenderPDF func(number, issuedOn string, st billing.Statement) ([]byte, error)
	// Progress records how far billing runs and usage imports have got,
	// for every instance to read (Runs); nil records nothing.
	Progress RunLog
	Runs     projruns.Reader
}

var (
	admin   = []api.Role{api.RoleOperatorAdmin}
	finance = []api.Role{api.RoleFinance}
	both    = []api.Role{api.RoleOperatorAdmin, api.RoleFinance}
)

// UsageFileLimit is the largest usage file accepted (413 beyond).
const UsageFileLimit = 512 << 20

// Routes registers every route.
func (s *Service) Routes(srv *api.Server) {
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/contracts", ID: "concludeContract", Tag: "cards", Roles: admin, Command: true, Status: http.StatusCreated,
		Summary: "Conclude the ETC service contract of a corporate customer after checking the lease system.", Request: ContractRequest{}, Response: projcards.ContractRow{}, Handler: s.conclude})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/contracts/:contract", ID: "getContract", Tag: "cards", Roles: both,
		Summary: "A concluded contract.", Response: projcards.ContractRow{}, Handler: s.getContract})
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/cards", ID: "issueCard", Tag: "cards", Roles: admin, Command: true, Status: http.StatusCreated,
		Summary: "Issue a new card (新規発行) for a leased vehicle; 409 card_in_use when the vehicle has one.", Request: IssueRequest{}, Response: projcards.CardRow{}, Handler: s.issue})
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/cards/:card/renewal", ID: "renewCard", Tag: "cards", Roles: admin, Command: true, Status: http.StatusCreated,
		Summary: "Renew a card (更新発行): a new card, the old one becomes renewed.", Request: RenewRequest{}, Response: projcards.CardRow{}, Handler: s.renew})
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/cards/:card/reissue", ID: "reissueCard", Tag: "cards", Roles: admin, Command: true, Status: http.StatusCreated,
		Summary: "Reissue a card (再発行) for lost, card_type_change, magnetic_fault or damage.", Request: ReissueRequest{}, Response: projcards.CardRow{}, Handler: s.reissue})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/cards/:card", ID: "getCard", Tag: "cards", Roles: both,
		Summary: "A card's status.", Response: projcards.CardRow{}, Handler: s.getCard})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/cards", ID: "listCards", Tag: "cards", Roles: both,
		Summary: "Cards by contract (customer), vehicle, state; renewal_due_by=YYYY-MM lists renewals due.", Response: []projcards.CardRow{}, Paged: true, Handler: s.listCards,
		Query: []api.Param{api.Q("contract", "Contract number (customer)."), api.Q("vehicle", "Vehicle number."), api.Q("state", "Card state."), api.Q("renewal_due_by", "YYYY-MM: cards whose renewal is due by then.")}})
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/usage-files", ID: "importUsage", Tag: "billing", Roles: finance, Command: true, MaxBody: UsageFileLimit, Stream: true,
		Summary: "Import a road operator usage CSV (UTF-8 or Shift_JIS, docs/usage-format.md); any bad line rejects the file with a per-line report.", Response: cmdcards.UsageImportResult{}, Handler: s.importUsage,
		Query: []api.Param{api.Q("name", "The file's name, as received from the road operator."),
			api.Q("run", "Optional run ID (16-64 of A-Z a-z 0-9 - _, chosen at random): GET /v1/runs/{run} then shows the rows imported, from any instance.")}})
	srv.Handle(api.Op{Method: http.MethodPost, Path: "/v1/billing-runs", ID: "runBilling", Tag: "billing", Roles: finance, Command: true,
		Summary: "Bill every contract for a month; re-running changes nothing, late usage gives adjustments.", Request: BillingRequest{}, Response: []cmdcards.BillingOutcome{}, Handler: s.runBilling})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/runs/:run", ID: "getRun", Tag: "billing", Roles: finance,
		Summary: "How far a billing run or usage import you started with a run ID has got (done, total, rate, time left; at the end its result), from any instance.", Response: projruns.Run{}, Handler: s.getRun})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/invoices", ID: "searchInvoices", Tag: "billing", Roles: finance,
		Summary: "Search invoices and adjustments: issued_from, issued_to, min_total, max_total, customer, period (combinable).", Response: []projcards.DocumentRow{}, Paged: true, Handler: s.searchInvoices,
		Query: []api.Param{api.Q("issued_from", "First issue date, YYYY-MM-DD."), api.Q("issued_to", "Last issue date, YYYY-MM-DD."), api.Q("min_total", "Least total, yen."),
			api.Q("max_total", "Greatest total, yen."), api.Q("customer", "Part of the customer's name."), api.Q("period", "Billing month, YYYY-MM.")}})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/invoices/:invoice", ID: "getInvoice", Tag: "billing", Roles: finance,
		Summary: "An invoice's effective content (issued plus adjustments) as JSON.", Response: InvoiceResponse{}, Handler: s.getInvoice})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/invoices/:invoice/csv", ID: "getInvoiceCSV", Tag: "billing", Roles: finance, Produces: "text/csv",
		Summary: "An invoice's lines as CSV.", Handler: s.getInvoiceCSV})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/invoices/:invoice/pdf", ID: "getInvoicePDF", Tag: "billing", Roles: finance, Produces: "application/pdf",
		Summary: "An invoice as PDF (Japanese).", Handler: s.getInvoicePDF})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/billing-totals", ID: "billingTotals", Tag: "billing", Roles: finance,
		Summary: "Billing totals per month, oldest first (period=YYYY-MM for one). Paged (Link header).", Response: []projcards.MonthTotal{}, Paged: true, Handler: s.totals,
		Query: []api.Param{api.Q("period", "One billing month, YYYY-MM.")}})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/reports/:contract/:month/non-business-day-usage", ID: "nonBusinessDayUsage", Tag: "reports", Roles: finance,
		Summary: "利用日確認帳票: usage on the customer's non-business days, by card then entry time. JSON is paged (Link header); format=csv is the whole report as one CSV download (limit and cursor do not apply).", Response: []ReportLine{}, Paged: true, Handler: s.nonBusinessDays,
		Query: []api.Param{api.Q("format", "csv for the whole report as CSV (not paged); JSON pages otherwise.")}})
	srv.Handle(api.Op{Method: http.MethodGet, Path: "/v1/reports/:contract/:month/other-vehicle-usage", ID: "otherVehicleUsage", Tag: "reports", Roles: finance,
		Summary: "利用車両確認帳票: usage by a vehicle other than the card's, by card then entry time. JSON is paged (Link header); format=csv is the whole report as one CSV download (limit and cursor do not apply).", Response: []ReportLine{}, Paged: true, Handler: s.otherVehicles,
		Query: []api.Param{api.Q("format", "csv for the whole report as CSV (not paged); JSON pages otherwise.")}})
}

// ContractRequest is the ETC service application.
type ContractRequest struct {
	Contract       string   `json:"contract"`
	CustomerName   string   `json:"customer_name"`
	AlphaName      string   `json:"alpha_name"`
	Address        string   `json:"address"`
	Phone          string   `json:"phone"`
	Representative string   `json:"representative"`
	BankCode       string   `json:"bank_code"`
	BranchCode     string   `json:"branch_code"`
	AccountType    string   `json:"account_type"`
	AccountNumber  string   `json:"account_number"`
	HolderKana     string   `json:"holder_kana"`
	WeeklyDaysOff  []string `json:"weekly_days_off"` // "saturday", "sunday"…; omitted: Saturday and Sunday
	HolidaysOff    *bool    `json:"national_holidays_off"`
	CompanyHoliday []string `json:"company_holidays"`
}

func (r ContractRequest) application() (contract.Application, error) {
	var app contract.Application
	var err error
	if app.Contract, err = contract.ParseNumber(r.Contract); err != nil {
		return app, err
	}
	app.CustomerName = r.CustomerName
	if app.AlphaName, err = contract.ParseAlphaName(r.AlphaName); err != nil {
		return app, err
	}
	if app.Contact, err = contract.NewContact(r.Address, r.Phone, r.Representative); err != nil {
		return app, err
	}
	if app.BankAccount, err = contract.NewBankAccount(r.BankCode, r.BranchCode, contract.AccountType(r.AccountType), r.AccountNumber, r.HolderKana); err != nil {
		return app, err
	}
	days := []time.Weekday{time.Saturday, time.Sunday}
	if r.WeeklyDaysOff != nil {
		days = nil
		for _, n := range r.WeeklyDaysOff {
			found := false
			for w := time.Sunday; w <= time.Saturday; w++ {
				if n == w.String() || n == lower(w.String()) {
					days, found = append(days, w), true
				}
			}
			if !found {
				return app, contract.ErrInvalidBusinessDays.Withf("weekly_days_off", "%q is not a weekday name (sunday … saturday).", n)
			}
		}
	}
	off := true
	if r.HolidaysOff != nil {
		off = *r.HolidaysOff
	}
	var hs []domain.Date
	for _, s := range r.CompanyHoliday {
		d, err := domain.ParseDate(s)
		if err != nil {
			return app, contract.ErrInvalidBusinessDays.Withf("company_holidays", "%q is not a date (YYYY-MM-DD).", s)
		}
		hs = append(hs, d)
	}
	app.BusinessDays, err = contract.NewBusinessCalendar(days, off, hs)
	return app, err
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }

func (s *Service) conclude(c echo.Context) error {
	var req ContractRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	app, err := req.application()
	if err != nil {
		return err
	}
	ifMatch, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	// Answered from the command's own decision, not the view: no wait on
	// projections (Gantry-Position is the token for reads that need them).
	k, res, err := s.Conclude.HandleContract(api.Actor(c), cmdcards.ConcludeContract{Application: app, ExpectedVersion: ifMatch})
	if err != nil {
		return err
	}
	api.SetVersion(c, res.LastVersion)
	return c.JSON(http.StatusCreated, projcards.ContractRowOf(k))
}

func (s *Service) getContract(c echo.Context) error {
	rows, err := s.Reader.Contracts(c.Request().Context(), c.Param("contract"))
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return contract.ErrContractNotFound
	}
	return c.JSON(http.StatusOK, rows[0])
}

// IssueRequest is a card issue request.
type IssueRequest struct {
	Contract string `json:"contract"`
	Vehicle  string `json:"vehicle"`
	CardType string `json:"card_type"`
}

// RenewRequest optionally changes the card type.
type RenewRequest struct {
	CardType string `json:"card_type,omitempty"`
}

// ReissueRequest gives the reason (code or Japanese label).
type ReissueRequest struct {
	Reason   string `json:"reason"`
	CardType string `json:"card_type,omitempty"`
}

// cardAnswer answers a card issue, renewal or reissue with the new card as
// the command decided it (its own events, not the cards view): no wait on
// projections, so a long transaction elsewhere on the server does not stall
// it. Gantry-Position (set by the command middleware) is the token for a
// read that needs the views to show it.
func (s *Service) cardAnswer(c echo.Context, k *card.Card, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, projcards.CardRowOf(k))
}

func (s *Service) issue(c echo.Context) error {
	var req IssueRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	n, err := contract.ParseNumber(req.Contract)
	if err != nil {
		return err
	}
	v, err := contract.ParseVehicleNumber(req.Vehicle)
	if err != nil {
		return err
	}
	t, err := card.ParseType(req.CardType)
	if err != nil {
		return err
	}
	k, _, err := s.Issue.HandleCard(api.Actor(c), cmdcards.IssueCard{Contract: n, Vehicle: v, Type: t})
	return s.cardAnswer(c, k, err)
}

func optType(s string) (card.Type, error) {
	if s == "" {
		return card.Type{}, nil
	}
	return card.ParseType(s)
}

// successor is what a renewal and a reissue read from the request: the old
// card (path), an optional new card type and the If-Match version.
type successor struct {
	old     card.CardNumber
	newType card.Type
	ifMatch int64
}

func readSuccessor(c echo.Context, cardType string) (successor, error) {
	var r successor
	var err error
	if r.old, err = card.ParseCardNumber(c.Param("card")); err != nil {
		return r, err
	}
	if r.newType, err = optType(cardType); err != nil {
		return r, err
	}
	r.ifMatch, err = api.IfMatch(c)
	return r, err
}

func (s *Service) renew(c echo.Context) error {
	var req RenewRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	r, err := readSuccessor(c, req.CardType)
	if err != nil {
		return err
	}
	k, _, err := s.Renew.HandleCard(api.Actor(c), cmdcards.RenewCard{Card: r.old, Type: r.newType, ExpectedVersion: r.ifMatch})
	return s.cardAnswer(c, k, err)
}

func (s *Service) reissue(c echo.Context) error {
	var req ReissueRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	r, err := readSuccessor(c, req.CardType)
	if err != nil {
		return err
	}
	k, _, err := s.Reissue.HandleCard(api.Actor(c), cmdcards.ReissueCard{Card: r.old, Reason: req.Reason, Type: r.newType, ExpectedVersion: r.ifMatch})
	return s.cardAnswer(c, k, err)
}

func (s *Service) getCard(c echo.Context) error {
	row, err := s.Reader.Card(c.Request().Context(), c.Param("card"))
	if err != nil {
		return err
	}
	api.SetVersion(c, row.Version)
	return c.JSON(http.StatusOK, row)
}

func (s *Service) listCards(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := s.Reader.CardsPage(c.Request().Context(), projcards.CardFilter{Contract: c.QueryParam("contract"), Vehicle: c.QueryParam("vehicle"),
		State: c.QueryParam("state"), RenewalDueBy: c.QueryParam("renewal_due_by")}, page)
	return api.Paged(c, rows, err)
}

// UsageFileProblem turns a rejected usage file into a 422 with one entry per line.
func UsageFileProblem(err error) error {
	var fe *cmdcards.UsageFileError
	if !errors.As(err, &fe) {
		return err
	}
	ps := make([]api.FieldProblem, len(fe.Problems))
	for i, p := range fe.Problems {
		ps[i] = api.FieldProblem{Line: p.Line, Field: p.Field, Reason: p.Reason}
	}
	return api.Invalid("invalid_usage_file", "The usage file ("+fe.Encoding+") has invalid lines; nothing was imported. Fix every line listed and send the whole file again.", ps)
}

func (s *Service) importUsage(c echo.Context) error {
	name := c.QueryParam("name")
	// The body streams through the import (its limit stays: past
	// UsageFileLimit the read fails and nothing is written).
	body := api.BodyStream(c)
	ctx := api.Actor(c)
	tr, err := Track(ctx, s.Progress, c.QueryParam("run"), RunUsage, api.PrincipalOf(c).Subject)
	if err != nil {
		return err
	}
	read := &CountingReader{R: body}
	res, err := s.Usage.Handle(ctx, cmdcards.ImportUsage{Name: name, Body: read, Progress: func(rows int) {
		tr.Set(int64(rows), EstimateRows(int64(rows), read.N.Load(), c.Request().ContentLength))
	}})
	if err != nil {
		err = UsageFileProblem(body.Problem(err))
		_ = tr.Finish(ctx, nil, failureText(err))
		return err
	}
	tr.Set(int64(res.Rows), int64(res.Rows))
	_ = tr.Finish(ctx, res, "")
	return c.JSON(http.StatusOK, res)
}

// BillingRequest names the month to bill.
type BillingRequest struct {
	Month string `json:"month"` // YYYY-MM
	// Run, if set, is a run ID chosen at random (16-64 of A-Z a-z 0-9 -
	// _): GET /v1/runs/{run} shows the run's progress from any instance.
	Run string `json:"run,omitempty"`
}

func (s *Service) runBilling(c echo.Context) error {
	var req BillingRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	m, err := money.ParseYearMonth(req.Month)
	if err != nil {
		return err
	}
	ctx := api.Actor(c)
	tr, err := Track(ctx, s.Progress, req.Run, RunBilling, api.PrincipalOf(c).Subject)
	if err != nil {
		return err
	}
	out, pos, err := s.Billing.Handle(ctx, cmdcards.RunBilling{Month: m, Progress: func(done, total int) { tr.Set(int64(done), int64(total)) }})
	if err == nil {
		err = s.WaitFor(c.Request().Context(), pos)
	}
	if err != nil {
		_ = tr.Finish(ctx, nil, failureText(err))
		return err
	}
	tr.Set(int64(len(out)), int64(len(out)))
	_ = tr.Finish(ctx, out, "")
	return c.JSON(http.StatusOK, out)
}

func optInt(c echo.Context, name string) (*int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, api.BadRequest("bad_query", name+" must be a whole number of yen.")
	}
	return &n, nil
}

func (s *Service) searchInvoices(c echo.Context) error {
	minT, err := optInt(c, "min_total")
	if err != nil {
		return err
	}
	maxT, err := optInt(c, "max_total")
	if err != nil {
		return err
	}
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := s.Reader.DocumentsPage(c.Request().Context(), projcards.DocumentFilter{IssuedFrom: c.QueryParam("issued_from"), IssuedTo: c.QueryParam("issued_to"),
		MinTotal: minT, MaxTotal: maxT, Customer: c.QueryParam("customer"), Period: c.QueryParam("period")}, page)
	return api.Paged(c, rows, err)
}

// InvoiceResponse is an invoice's effective content.
type InvoiceResponse struct {
	Invoice     string            `json:"invoice"`
	IssuedOn    string            `json:"issued_on"`
	Adjustments int               `json:"adjustments"`
	Statement   billing.Statement `json:"statement"`
}

func (s *Service) loadInvoice(c echo.Context) (InvoiceResponse, error) {
	r, v, err := s.Invoice(c.Request().Context(), c.Param("invoice"))
	if err != nil {
		return InvoiceResponse{}, err
	}
	api.SetVersion(c, v)
	return r, nil
}

// Invoice reads an issued invoice's effective content and its stream
// version (the API and the web pages share it).
func (s *Service) Invoice(ctx context.Context, number string) (InvoiceResponse, int64, error) {
	n, err := billing.ParseInvoiceNumber(number)
	if err != nil {
		return InvoiceResponse{}, 0, err
	}
	inv, v, err := s.Invoices.Invoice(ctx, n)
	if err != nil {
		return InvoiceResponse{}, 0, err
	}
	return InvoiceResponse{Invoice: n.String(), IssuedOn: inv.IssuedOn().String(), Adjustments: inv.Adjustments(), Statement: inv.Effective()}, v, nil
}

func (s *Service) getInvoice(c echo.Context) error {
	r, err := s.loadInvoice(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Service) getInvoiceCSV(c echo.Context) error {
	r, err := s.loadInvoice(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteInvoiceCSV(&buf, r); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// WriteInvoiceCSV writes an invoice's lines and total as CSV.
func WriteInvoiceCSV(out io.Writer, r InvoiceResponse) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"invoice", "card", "vehicle", "kind", "usage_date", "entry_ic", "exit_ic", "exit_at", "amount", "tax_rate"})
	for _, l := range r.Statement.Lines {
		exit := ""
		if !l.ExitAt.IsZero() {
			exit = l.ExitAt.In(domain.Tokyo).Format("2006-01-02 15:04:05")
		}
		ud := ""
		if !l.UsageDate.IsZero() {
			ud = l.UsageDate.String()
		}
		_ = w.Write([]string{r.Invoice, l.Card.String(), l.Vehicle.String(), string(l.Kind), ud, l.EntryIC, l.ExitIC, exit,
			strconv.FormatInt(int64(l.Amount), 10), strconv.Itoa(int(l.TaxRate))})
	}
	sm := r.Statement.Summary
	_ = w.Write([]string{r.Invoice, "", "", "total", "", "", "", "", strconv.FormatInt(int64(sm.Total), 10), ""})
	w.Flush()
	return w.Error()
}

func (s *Service) getInvoicePDF(c echo.Context) error {
	r, err := s.loadInvoice(c)
	if err != nil {
		return err
	}
	b, err := s.RenderPDF(r.Invoice, r.IssuedOn, r.Statement)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/pdf", b)
}

func (s *Service) totals(c echo.Context) error {
	page, err := api.PageOf(c)
	if err != nil {
		return err
	}
	rows, err := s.Reader.Totals(c.Request().Context(), c.QueryParam("period"), page)
	return api.Paged(c, rows, err)
}
