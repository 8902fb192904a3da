package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api/cardsapi"
	cmdcards "github.com/gantry-etc/gantry/commands/cards"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
)

// maxUsageFile bounds an uploaded usage file (as the API does).
const maxUsageFile = 512 << 20

type financePage struct {
	Search    *form
	Searched  bool
	Invoices  []projcards.DocumentRow
	Contracts []projcards.ContractRow
	Cards     []projcards.CardRow
	// Renewals is the "renewals due" filter of the cards: the window of
	// months in which the renewal notice falls due.
	Renewals      *form
	RenewalsAsked bool
	Chart         template.HTML
	Billing       *form
	Outcomes      []cmdcards.BillingOutcome
	Upload        *form
	Imported      *cmdcards.UsageImportResult
	Problems      []cmdcards.UsageLineProblem
	// UploadID names the next upload's progress (financeUploadProgress).
	UploadID string
}

// financeHome: usage upload, billing run, invoice search (issue-date range,
// amount range, customer — combinable), contracts and cards, and the
// billing totals per month as a server-rendered SVG chart.
func (s *Site) financeHome(c echo.Context) error {
	return s.financeWith(c, http.StatusOK, financePage{Billing: newForm(), Upload: newForm()})
}

func (s *Site) financeWith(c echo.Context, code int, pg financePage) error {
	ctx := c.Request().Context()
	r := s.Cards.Reader
	pg.UploadID = newRunID()
	pg.Search = newForm()
	pg.Search.read(c, "issued_from", "issued_to", "min_total", "max_total", "customer")
	if searched(pg.Search) {
		pg.Searched = true
		f := projcards.DocumentFilter{IssuedFrom: pg.Search.V("issued_from"), IssuedTo: pg.Search.V("issued_to"), Customer: pg.Search.V("customer")}
		var bad bool
		for _, n := range []string{"min_total", "max_total"} {
			v := pg.Search.V(n)
			if v == "" {
				continue
			}
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				pg.Search.Errors[n] = "金額は円単位の整数で入力してください。"
				bad = true
				continue
			}
			if n == "min_total" {
				f.MinTotal = &x
			} else {
				f.MaxTotal = &x
			}
		}
		for _, n := range []string{"issued_from", "issued_to"} {
			if v := pg.Search.V(n); v != "" {
				if _, err := domain.ParseDate(v); err != nil {
					pg.Search.Errors[n] = messages["bad_date"]
					bad = true
				}
			}
		}
		if !bad {
			rows, err := r.Documents(ctx, f)
			if err != nil {
				if err := pg.Search.fail(err); err != nil {
					return err
				}
			}
			pg.Invoices = rows
		}
	}
	var err error
	if pg.Contracts, err = r.Contracts(ctx, ""); err != nil {
		return err
	}
	pg.Renewals = newForm()
	pg.Renewals.read(c, "notice_from", "notice_to")
	cf := projcards.CardFilter{}
	if pg.RenewalsAsked = searched(pg.Renewals); pg.RenewalsAsked {
		for _, n := range []string{"notice_from", "notice_to"} {
			if v := pg.Renewals.V(n); v != "" {
				if _, err := money.ParseYearMonth(v); err != nil {
					pg.Renewals.Errors[n] = "月を YYYY-MM の形式で入力してください。"
				}
			}
		}
		if len(pg.Renewals.Errors) == 0 {
			cf.NoticeFrom, cf.NoticeTo = pg.Renewals.V("notice_from"), pg.Renewals.V("notice_to")
		} else {
			pg.RenewalsAsked = false
		}
	}
	if pg.Cards, err = r.Cards(ctx, cf); err != nil {
		return err
	}
	totals, err := r.AllTotals(ctx)
	if err != nil {
		return err
	}
	pg.Chart = totalsChart(totals)
	return s.render(c, code, "finance", pg)
}

// searched reports whether any of the form's fields was sent.
func searched(f *form) bool {
	for _, v := range f.Values {
		if v != "" {
			return true
		}
	}
	return false
}

// financeUsage imports a usage file; a rejected file shows its report, one
// row per bad line, and nothing is imported. While the server imports, the
// rows loaded go to the run named by the form's upload field (a random ID
// the page was served with), which the page's script polls
// (financeUploadProgress), whichever instance serves it.
func (s *Site) financeUsage(c echo.Context) error {
	pg := financePage{Billing: newForm(), Upload: newForm()}
	fh, err := c.FormFile("file")
	if err != nil {
		pg.Upload.Errors["file"] = "利用明細ファイルを選択してください。"
		return s.financeWith(c, http.StatusUnprocessableEntity, pg)
	}
	fd, err := fh.Open()
	if err != nil {
		return err
	}
	defer fd.Close()
	ctx := actor(c)
	var tr *cardsapi.Tracker
	if id := c.FormValue("upload"); cardsapi.ValidRunID(id) {
		// Progress is telemetry: if it cannot be recorded, the import
		// still runs (the page then shows no row count).
		if tr, err = cardsapi.Track(ctx, s.Cards.Progress, id, cardsapi.RunUsage, principal(c).Subject); err != nil {
			s.Log.Warn("upload progress not recorded", "err", err.Error())
		}
	}
	read := &cardsapi.CountingReader{R: io.LimitReader(fd, maxUsageFile)}
	res, err := s.Cards.Usage.Handle(ctx, cmdcards.ImportUsage{Name: fh.Filename, Body: read, Progress: func(rows int) {
		tr.Set(int64(rows), cardsapi.EstimateRows(int64(rows), read.N.Load(), fh.Size))
	}})
	var fe *cmdcards.UsageFileError
	switch {
	case errors.As(err, &fe):
		pg.Problems = fe.Problems
		pg.Upload.Alert = fmt.Sprintf("利用明細ファイル（%s）に誤りのある行が %d 件あるため、取り込みませんでした。すべての行を直して、ファイル全体をもう一度送ってください。", fe.Encoding, len(fe.Problems))
		_ = tr.Finish(ctx, nil, pg.Upload.Alert)
		return s.financeWith(c, http.StatusUnprocessableEntity, pg)
	case err != nil:
		_ = tr.Finish(ctx, nil, s.failureText(err))
		if err := pg.Upload.fail(err); err != nil {
			return err
		}
		return s.financeWith(c, http.StatusUnprocessableEntity, pg)
	}
	tr.Set(int64(res.Rows), int64(res.Rows))
	_ = tr.Finish(ctx, res, "")
	pg.Imported = &res
	return s.financeWith(c, http.StatusOK, pg)
}

// failureText is what a run's page says about err.
func (s *Site) failureText(err error) string {
	f := newForm()
	if err := f.fail(err); err != nil {
		s.Log.Error("run failed", "err", err.Error())
		return "サーバーの障害で中断しました。記録済みの分はそのまま残ります。もう一度実行しても二重にはなりません。"
	}
	for _, e := range f.Errors {
		return e
	}
	return f.Alert
}

// financeBilling starts a billing run for a month and sends the browser
// to the run's page, which shows its progress (contracts done of all,
// rate, time left) until it ends, then the outcome per contract.
func (s *Site) financeBilling(c echo.Context) error {
	pg := financePage{Billing: newForm(), Upload: newForm()}
	pg.Billing.read(c, "month")
	m, err := money.ParseYearMonth(pg.Billing.V("month"))
	var tr *cardsapi.Tracker
	id := newRunID()
	if err == nil {
		tr, err = cardsapi.Track(actor(c), s.Cards.Progress, id, cardsapi.RunBilling, principal(c).Subject)
	}
	if err == nil {
		// The run outlives the request; each invoice is one append, so a
		// run cut short (the process stopped) leaves whole invoices, and a
		// re-run bills the rest. Its final state is written once its
		// invoices are appended and in the views.
		ctx := context.WithoutCancel(actor(c))
		go func() {
			out, pos, err := s.Cards.Billing.Handle(ctx, cmdcards.RunBilling{Month: m, Progress: func(done, total int) { tr.Set(int64(done), int64(total)) }})
			if err == nil && s.Cards.WaitFor != nil {
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err = s.Cards.WaitFor(wctx, pos)
				cancel()
			}
			if err != nil {
				_ = tr.Finish(ctx, nil, s.failureText(err))
				return
			}
			tr.Set(int64(len(out)), int64(len(out)))
			if err := tr.Finish(ctx, out, ""); err != nil {
				s.Log.Error("billing run's end not recorded", "err", err.Error())
			}
		}()
		return c.Redirect(http.StatusSeeOther, "/finance/runs/"+id)
	}
	if err := pg.Billing.fail(err); err != nil {
		return err
	}
	if pg.Billing.Alert != "" && pg.Billing.E("month") == "" {
		pg.Billing.Errors["month"], pg.Billing.Alert = pg.Billing.Alert, ""
	}
	return s.financeWith(c, http.StatusUnprocessableEntity, pg)
}

func (s *Site) financeInvoice(c echo.Context) error {
	r, _, err := s.Cards.Invoice(c.Request().Context(), c.Param("invoice"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "invoice", r)
}

func (s *Site) financeInvoicePDF(c echo.Context) error {
	r, _, err := s.Cards.Invoice(c.Request().Context(), c.Param("invoice"))
	if err != nil {
		return err
	}
	b, err := s.Cards.RenderPDF(r.Invoice, r.IssuedOn, r.Statement)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+r.Invoice+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", b)
}

func (s *Site) financeInvoiceCSV(c echo.Context) error {
	r, _, err := s.Cards.Invoice(c.Request().Context(), c.Param("invoice"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := cardsapi.WriteInvoiceCSV(&b, r); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+r.Invoice+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// totalsChart draws the billing totals per month as an SVG bar chart
// (server-rendered; a table beside it carries the same numbers).
func totalsChart(rows []projcards.MonthTotal) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const w, h, top, bottom, left = 640, 240, 20, 40, 70
	var maxT int64 = 1
	for _, r := range rows {
		maxT = max(maxT, r.Total)
	}
	bw := min((w-left-10)/len(rows), 90)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx" role="img" aria-labelledby="chart-title">`, w, h, w)
	b.WriteString(`<title id="chart-title">月別請求合計</title>`)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555"/>`, left, h-bottom, w-5, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, left-5, top+5, template.HTMLEscapeString(yen(maxT)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end">¥0</text>`, left-5, h-bottom)
	for i, r := range rows {
		bh := int(float64(h-top-bottom) * float64(r.Total) / float64(maxT))
		x := left + 5 + i*bw
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#0b5cad"><title>%s %s</title></rect>`,
			x, h-bottom-bh, max(bw-10, 4), bh, template.HTMLEscapeString(r.Period), template.HTMLEscapeString(yen(r.Total)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="middle">%s</text>`, x+max(bw-10, 4)/2, h-bottom+16, template.HTMLEscapeString(r.Period))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// yen formats whole yen: ¥12,345.
func yen(v any) string {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case money.Yen:
		n = int64(x)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-¥" + b.String()
	}
	return "¥" + b.String()
}

type reportPage struct {
	Form  *form
	Title string
	Lines []cardsapi.ReportLine
	Asked bool
}

// reportKinds are the two customer reports.
var reportKinds = map[string]string{"non-business-day": "休業日利用明細", "other-vehicle": "他車両利用明細"}

// financeReport shows one of the two customer reports of a contract and
// month (the same computation as the API's report routes).
func (s *Site) financeReport(c echo.Context) error {
	f := newForm()
	f.read(c, "contract", "month", "kind")
	pg := reportPage{Form: f, Title: reportKinds[f.V("kind")]}
	if f.V("contract") == "" {
		return s.render(c, http.StatusOK, "report", pg)
	}
	pg.Asked = true
	var err error
	switch f.V("kind") {
	case "other-vehicle":
		pg.Lines, err = s.Cards.OtherVehicleReport(c.Request().Context(), f.V("contract"), f.V("month"))
	default:
		f.Values["kind"], pg.Title = "non-business-day", reportKinds["non-business-day"]
		pg.Lines, err = s.Cards.NonBusinessDayReport(c.Request().Context(), f.V("contract"), f.V("month"))
	}
	if err != nil {
		if err := f.fail(err); err != nil {
			return err
		}
		if f.Alert != "" {
			f.Errors["contract"], f.Alert = f.Alert, ""
		}
		return s.render(c, http.StatusUnprocessableEntity, "report", pg)
	}
	return s.render(c, http.StatusOK, "report", pg)
}

// runPage is a billing run's page.
type runPage struct {
	Progress Progress
	Outcomes []cmdcards.BillingOutcome
	Error    string
}

// financeRun shows a billing run's progress, from the table every
// instance reads; the page reloads itself each second until the run has
// ended.
func (s *Site) financeRun(c echo.Context) error {
	x, err := s.Cards.Runs.Run(c.Request().Context(), c.Param("run"), principal(c).Subject)
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindNotFound || err == nil && x.Kind != cardsapi.RunBilling {
		return s.errorPage(c, http.StatusNotFound, "この請求の実行は見つかりません（7日より前のもの、または別の担当者のもの）。請求はやり直しても二重にはなりません。")
	}
	if err != nil {
		return err
	}
	pg := runPage{Progress: progressOf(x), Error: x.Failure}
	if x.Stalled && pg.Error == "" {
		pg.Error = "この請求の実行は途中で止まりました（サーバーの停止など）。発行済みの請求書はそのまま残ります。同じ月をもう一度実行すると残りを請求します（二重にはなりません）。"
	}
	if len(x.Result) > 0 {
		if err := json.Unmarshal(x.Result, &pg.Outcomes); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "run", pg)
}

// uploadProgress is what the upload page's script shows while the server
// imports: rows imported, the estimated rows in all, rate and time left.
type uploadProgress struct {
	Rows      int    `json:"rows"`
	Estimated int    `json:"estimated"`
	Percent   int    `json:"percent"`
	Rate      string `json:"rate"`
	Left      string `json:"left"`
	Ended     bool   `json:"ended"`
}

// financeUploadProgress answers how far the import of an upload has got
// (JSON for upload.js), from the table every instance reads. Until the
// server begins the import the run is not there yet: 404.
func (s *Site) financeUploadProgress(c echo.Context) error {
	x, err := s.Cards.Runs.Run(c.Request().Context(), c.Param("run"), principal(c).Subject)
	var de *domain.Error
	if errors.As(err, &de) && de.Kind == domain.KindNotFound || err == nil && x.Kind != cardsapi.RunUsage {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "not started"})
	}
	if err != nil {
		return err
	}
	p := progressOf(x)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, uploadProgress{Rows: p.Done, Estimated: p.Total, Percent: p.Percent, Rate: p.Rate, Left: p.Left, Ended: p.Ended})
}
