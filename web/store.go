package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/commands/accounts"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/projections"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

// maxUpload bounds an uploaded consent PDF.
const maxUpload = 10 << 20

func (s *Site) staffLoginForm(c echo.Context) error {
	f := newForm()
	f.Values["next"] = safeNext(c.QueryParam("next"))
	return s.render(c, http.StatusOK, "staff_login", f)
}

// staffLogin runs the API's password login; finance and auditors log in
// here too.
func (s *Site) staffLogin(c echo.Context) error {
	f := newForm()
	f.read(c, "staff_id", "password", "next")
	id, err := accounts.PasswordLoginHandler{Accounts: s.Accounts, Hasher: s.Hasher, BootstrapID: s.BootstrapID, BootstrapPassword: s.BootstrapPassword, DummyHash: s.LoginDummyHash}.
		Handle(c.Request().Context(), accounts.PasswordLogin{StaffID: f.V("staff_id"), Password: f.V("password")})
	if errors.Is(err, accounts.ErrBadCredentials) {
		f.Alert = messages["bad_credentials"]
		f.Values["password"] = ""
		return s.render(c, http.StatusUnauthorized, "staff_login", f)
	}
	if err != nil {
		return err
	}
	p := api.Principal{Role: api.Role(id.Role), Subject: id.StaffID, Store: id.StoreID}
	s.setSession(c, p)
	next := safeNext(f.V("next"))
	if next == "" {
		next = homeOf(p.Role)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// homeOf is the first page of a role.
func homeOf(r api.Role) string {
	switch r {
	case api.RoleStaff, api.RoleStoreAdmin:
		return "/store"
	case api.RoleFinance:
		return "/finance"
	case api.RoleAuditor, api.RoleOperatorAdmin:
		return "/audit"
	}
	return "/"
}

// safeNext keeps only a local path.
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

type receivedRow struct {
	proj.ReceivedRow
	Certificate string
}

type storeHomePage struct {
	Receive  *form
	Awaiting []proj.AwaitingRow
	Received []receivedRow
	Setups   []proj.SetupRow
	Stats    []proj.StatRow
}

// storeHome is the management site's first page: reception, the
// applications awaiting reception and received, setups in progress and the
// issuance per day — the same reader as the API's views, for this store.
func (s *Site) storeHome(c echo.Context) error {
	return s.storeHomeWith(c, http.StatusOK, newForm())
}

func (s *Site) storeHomeWith(c echo.Context, code int, receive *form) error {
	ctx := c.Request().Context()
	store := principal(c).Store
	pg := storeHomePage{Receive: receive}
	var err error
	// The dashboard shows the first page of each list (newest first).
	awaiting, err := s.Views.Awaiting(ctx, store, s.Clock.Now(), projections.FirstPage)
	if err != nil {
		return err
	}
	pg.Awaiting = awaiting.Items
	rec, err := s.Views.Received(ctx, store, projections.FirstPage)
	if err != nil {
		return err
	}
	for _, r := range rec.Items {
		row := receivedRow{ReceivedRow: r}
		switch n, err := s.Views.LatestCertificate(ctx, r.ApplicationID); {
		case err == nil:
			row.Certificate = n
		case !errors.Is(err, certificate.ErrNotFound):
			return err
		}
		pg.Received = append(pg.Received, row)
	}
	all, err := s.Views.Setups(ctx, store, "", projections.FirstPage)
	if err != nil {
		return err
	}
	for _, r := range all.Items {
		if r.Status != "completed" {
			pg.Setups = append(pg.Setups, r)
		}
	}
	stats, err := s.Views.Issuance(ctx, store, projections.FirstPage)
	if err != nil {
		return err
	}
	pg.Stats = stats.Items
	return s.render(c, code, "store", pg)
}

// storeReceive is step 5 on the store PC: application ID + passcode, or the
// QR payload read by a scanner.
func (s *Site) storeReceive(c echo.Context) error {
	f := newForm()
	f.read(c, "application_id", "passcode", "qr")
	p := principal(c)
	out, err := cmds.ReceiveHandler{Streams: s.Streams, Clock: s.Clock, Hasher: s.Hasher}.Handle(actor(c), cmds.Receive{
		Credentials: cmds.Credentials{ApplicationID: f.V("application_id"), Passcode: f.V("passcode"), QR: f.V("qr")}, StoreID: p.Store, StaffID: p.Subject})
	if err != nil {
		if err := f.fail(err); err != nil {
			return err
		}
		f.Values["passcode"] = ""
		return s.storeHomeWith(c, http.StatusUnprocessableEntity, f)
	}
	s.wait(c.Request().Context(), out.Result)
	return c.Redirect(http.StatusSeeOther, "/store/setups/"+out.SetupID)
}

type setupPage struct {
	ID, ApplicationID string
	Step              string // the form to show: visitor, identity, ...
	StepName          string
	Version           int64
	Form              *form
	Done              bool
	Halted            bool
}

// stepPaths names each step's form and URL.
var stepPaths = map[setup.Step]string{
	setup.StepVisitor: "visitor", setup.StepIdentity: "identity", setup.StepMultipleUnits: "multiple-units", setup.StepVehicle: "vehicle",
	setup.StepOBU: "obu", setup.StepCard: "card", setup.StepExecute: "execute", setup.StepNotify: "completion",
}

var stepNames = map[setup.Step]string{
	setup.StepVisitor: "1. 来店者の記録", setup.StepIdentity: "2. 本人確認", setup.StepMultipleUnits: "3. 車載器の複数台取付け有無確認",
	setup.StepVehicle: "4. 車両情報", setup.StepOBU: "5. 車載器情報", setup.StepCard: "6. セットアップカード書込み",
	setup.StepExecute: "7. セットアップ実行", setup.StepNotify: "8. セットアップ完了通知", setup.StepDone: "完了",
}

// storeSetup shows a setup of this store with the form of its next step.
func (s *Site) storeSetup(c echo.Context) error {
	return s.storeSetupWith(c, http.StatusOK, newForm())
}

func (s *Site) storeSetupWith(c echo.Context, code int, f *form) error {
	st, v, err := cmds.Reads{Streams: s.Streams}.Setup(c.Request().Context(), c.Param("id"), principal(c).Store)
	if err != nil {
		return err
	}
	next := st.NextStep()
	pg := setupPage{ID: st.ID(), ApplicationID: st.ApplicationID(), Step: stepPaths[next], StepName: stepNames[next], Version: v, Form: f,
		Done: next == setup.StepDone}
	if pg.Step == "" && !pg.Done {
		pg.Halted = true
	}
	return s.render(c, code, "setup", pg)
}

// stepFields are each step's form fields.
var stepFields = map[string][]string{
	"visitor":        {"kind", "name", "id_document_type", "document_checked"},
	"identity":       {"passed", "method", "note"},
	"multiple-units": {"multiple"},
	"vehicle":        {"inspection_qr", "source", "plate", "type_designation_number", "category_number", "gross_weight_kg", "towing", "vehicle_type"},
	"obu":            {"kind", "number"},
	"card":           {"card_serial", "written_hash"},
	"execute":        {},
	"completion":     {},
}

// stepInput turns a step's form into the command's input (the same types
// the API's step routes decode into).
func stepInput(step string, f *form) (cmds.StepInput, error) {
	switch step {
	case "visitor":
		return cmds.RecordVisitor{Kind: setup.VisitorKind(f.V("kind")), Name: f.V("name"), IDDocumentType: f.V("id_document_type"), DocumentChecked: f.Checked("document_checked")}, nil
	case "identity":
		return cmds.CheckIdentity{Passed: f.V("passed") == "yes", Method: f.V("method"), Note: f.V("note")}, nil
	case "multiple-units":
		return cmds.AnswerMultipleUnits{Multiple: f.V("multiple") == "yes"}, nil
	case "vehicle":
		kg := 0
		if w := f.V("gross_weight_kg"); w != "" {
			n, err := strconv.Atoi(w)
			if err != nil {
				return nil, setup.ErrInvalidGrossWeight.With("gross_weight_kg", "")
			}
			kg = n
		}
		return cmds.RecordVehicle{InspectionQR: f.V("inspection_qr"), Vehicle: setup.RecordVehicle{Source: setup.VehicleSource(f.V("source")), Plate: f.V("plate"),
			TypeDesignationNumber: f.V("type_designation_number"), CategoryNumber: f.V("category_number"), GrossWeightKg: kg, Towing: f.Checked("towing"), VehicleType: f.V("vehicle_type")}}, nil
	case "obu":
		return cmds.RecordOBU{Kind: setup.OBUKind(f.V("kind")), Number: f.V("number")}, nil
	case "card":
		return cmds.WriteCard{CardSerial: f.V("card_serial"), WrittenHash: f.V("written_hash")}, nil
	case "execute":
		return cmds.Execute{}, nil
	}
	return nil, echo.ErrNotFound
}

// storeStep runs one step with the version the page showed (a stale page
// gets the conflict, as If-Match does on the API).
func (s *Site) storeStep(c echo.Context) error {
	step := c.Param("step")
	names, ok := stepFields[step]
	if !ok {
		return echo.ErrNotFound
	}
	f := newForm()
	f.read(c, append(names, "version")...)
	version, err := strconv.ParseInt(f.V("version"), 10, 64)
	if err != nil {
		version = -1
	}
	p := principal(c)
	id := c.Param("id")
	if step == "completion" {
		out, err := cmds.NotifyCompletionHandler{Streams: s.Streams, Clock: s.Clock, Codes: s.Codes}.Handle(actor(c), cmds.NotifyCompletion{
			SetupID: id, StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: version})
		if err != nil {
			return s.stepFailed(c, f, err)
		}
		s.wait(c.Request().Context(), out.Result)
		return c.Redirect(http.StatusSeeOther, "/store/certificates/"+out.CertificateNumber)
	}
	in, err := stepInput(step, f)
	if err == nil {
		r, e := cmds.StepHandler{Streams: s.Streams, Clock: s.Clock}.Handle(actor(c), cmds.Step{SetupID: id, StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: version, Input: in})
		if e == nil {
			s.wait(c.Request().Context(), r)
			return c.Redirect(http.StatusSeeOther, "/store/setups/"+id)
		}
		err = e
	}
	return s.stepFailed(c, f, err)
}

func (s *Site) stepFailed(c echo.Context, f *form, err error) error {
	if errors.Is(err, setup.ErrNotStarted) {
		return err
	}
	if err := f.fail(err); err != nil {
		return err
	}
	return s.storeSetupWith(c, http.StatusUnprocessableEntity, f)
}

type certificatePage struct {
	Content certificate.Content
	Version int64
	Notice  string
}

// storeCertificate shows a certificate of this store with print and re-mail.
func (s *Site) storeCertificate(c echo.Context) error {
	return s.storeCertificateWith(c, "")
}

func (s *Site) storeCertificateWith(c echo.Context, notice string) error {
	cert, v, err := cmds.Reads{Streams: s.Streams}.Certificate(c.Request().Context(), c.Param("number"))
	if err != nil {
		return err
	}
	if cert.Content().StoreID != principal(c).Store {
		return certificate.ErrNotFound
	}
	return s.render(c, http.StatusOK, "certificate", certificatePage{Content: cert.Content(), Version: v, Notice: notice})
}

// storePrint logs the print (who, where, when) and answers the PDF.
func (s *Site) storePrint(c echo.Context) error {
	p := principal(c)
	cert, res, err := cmds.PrintHandler{Streams: s.Streams, Clock: s.Clock}.Handle(actor(c), cmds.Print{Number: c.Param("number"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: -1})
	if err != nil {
		return err
	}
	s.wait(c.Request().Context(), res)
	return s.certificatePDF(c, cert)
}

// storeReissue mails a new download link; the old one stops working.
func (s *Site) storeReissue(c echo.Context) error {
	res, err := cmds.ReissueLinkHandler{Streams: s.Streams, Clock: s.Clock}.Handle(actor(c), cmds.ReissueLink{Number: c.Param("number"), StoreID: principal(c).Store, ExpectedVersion: -1})
	if err != nil {
		return err
	}
	s.wait(c.Request().Context(), res)
	return s.storeCertificateWith(c, "ダウンロードリンクを再送しました。以前のリンクは使えなくなりました。")
}

// consentFields are the proxy consent form's fields.
var consentFields = []string{"consent_id", "request_date", "kind", "applicant.corporation_name", "applicant.name", "applicant.address",
	"applicant.phone", "applicant.email", "has_agent", "agent.name", "agent.address", "agent.phone", "units", "valid_from", "valid_to",
	"delegates_setup_application", "acceptances.personal_data_policy", "acceptances.etc_system_terms", "acceptances.dsrc_terms", "acceptances.probe_data_policy"}

type consentPage struct {
	Form        *form
	Regulations []regulation
	Notice      string
	// Recorded is the consent just recorded (a link to file under it).
	Recorded string
}

func (s *Site) consentForm(c echo.Context) error {
	return s.render(c, http.StatusOK, "consent", consentPage{Form: s.newConsentForm(), Regulations: regulations})
}

// newConsentForm is an empty consent form with today's request date.
func (s *Site) newConsentForm() *form {
	f := newForm()
	f.Values["kind"], f.Values["units"] = "person", "1"
	f.Values["request_date"] = domain.DateOf(s.Clock.Now()).String()
	return f
}

// consentSubmit records a proxy consent (委任状) with the signed PDF.
func (s *Site) consentSubmit(c echo.Context) error {
	f := newForm()
	f.read(c, consentFields...)
	err := s.recordConsent(c, f)
	if err == nil {
		return s.render(c, http.StatusCreated, "consent", consentPage{Form: s.newConsentForm(), Regulations: regulations,
			Notice: "委任状 " + f.V("consent_id") + " を登録しました。代行申請に進めます。", Recorded: f.V("consent_id")})
	}
	if err := f.fail(err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "consent", consentPage{Form: f, Regulations: regulations})
}

func (s *Site) recordConsent(c echo.Context, f *form) error {
	d, acc, units, err := f.application()
	if err != nil {
		return err
	}
	dates := map[string]domain.Date{}
	for _, n := range []string{"request_date", "valid_from", "valid_to"} {
		if f.V(n) == "" {
			continue
		}
		if dates[n], err = domain.ParseDate(f.V(n)); err != nil {
			return domain.Invalid("bad_date", "Dates are YYYY-MM-DD.").With(n, "")
		}
	}
	var pdf []byte
	if fh, err := c.FormFile("signed_pdf"); err == nil {
		if fh.Size > maxUpload {
			return domain.Invalid("not_a_pdf", "The PDF is larger than 10 MB.").With("signed_pdf", "")
		}
		fd, err := fh.Open()
		if err != nil {
			return err
		}
		defer fd.Close()
		if pdf, err = io.ReadAll(io.LimitReader(fd, maxUpload)); err != nil {
			return err
		}
	}
	p := principal(c)
	res, err := cmds.RecordConsentHandler{Streams: s.Streams, Clock: s.Clock, Documents: s.Documents}.Handle(actor(c), cmds.RecordConsent{
		Consent: application.RecordConsent{ConsentID: f.V("consent_id"), StoreID: p.Store, StaffID: p.Subject, RequestDate: dates["request_date"],
			Applicant: d.Applicant, Agent: d.Agent, Acceptances: acc, DelegatesSetupApplication: f.Checked("delegates_setup_application"),
			Units: units, ValidFrom: dates["valid_from"], ValidTo: dates["valid_to"]},
		SignedPDF: pdf})
	if err != nil {
		return err
	}
	s.wait(c.Request().Context(), res)
	return nil
}

type proxyPage struct {
	applicationPage
	Applied *appliedPage
}

func (s *Site) proxyForm(c echo.Context) error {
	f := newForm()
	f.Values["kind"], f.Values["units"] = "person", "1"
	f.Values["consent_id"] = c.QueryParam("consent")
	return s.render(c, http.StatusOK, "proxy", proxyPage{applicationPage: applicationPage{Form: f, Regulations: regulations, Action: "/store/proxy", Proxy: true}})
}

// proxySubmit files an application by proxy under a consent.
func (s *Site) proxySubmit(c echo.Context) error {
	f := newForm()
	f.read(c, append(applicationFields, "consent_id")...)
	d, acc, units, err := f.application()
	if err == nil {
		p := principal(c)
		var out cmds.Applied
		out, err = cmds.FileByProxyHandler{Streams: s.Streams, Clock: s.Clock, Hasher: s.Hasher}.Handle(actor(c), cmds.FileByProxy{
			ConsentID: f.V("consent_id"), StoreID: p.Store, StaffID: p.Subject, Details: d, Acceptances: acc, Units: units})
		if err == nil {
			s.wait(c.Request().Context(), out.Result)
			return s.render(c, http.StatusCreated, "proxy", proxyPage{Applied: &appliedPage{ApplicationID: out.ApplicationID, Passcode: out.Passcode}})
		}
	}
	if err := f.fail(err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "proxy", proxyPage{applicationPage: applicationPage{Form: f, Regulations: regulations, Action: "/store/proxy", Proxy: true}})
}
