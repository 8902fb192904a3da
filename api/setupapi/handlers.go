package setupapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
	"github.com/gantry-etc/gantry/domain/setup"
)

// ApplyRequest is a web (or proxy) application.
type ApplyRequest struct {
	Details     application.Details     `json:"details"`
	Acceptances application.Acceptances `json:"acceptances"`
	Units       int                     `json:"units"`
}

// WebApplyRequest is a customer's web application; Store is the setup
// store named by the QR link it was opened from (optional; an existing
// store's code).
type WebApplyRequest struct {
	ApplyRequest
	Store string `json:"store,omitempty"`
}

// ProxyRequest is a store's proxy filing under a consent.
type ProxyRequest struct {
	ConsentID string `json:"consent_id"`
	ApplyRequest
}

// AppliedResponse: the ID, passcode and QR payload (shown once).
type AppliedResponse struct {
	ApplicationID string `json:"application_id"`
	Passcode      string `json:"passcode"`
	QR            string `json:"qr"`
	Version       int64  `json:"version"`
}

func (a *API) apply(c echo.Context) error {
	var req WebApplyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	out, err := cmds.ApplyHandler{Streams: a.Streams, Clock: a.Clock, Hasher: a.Hasher, Stores: a.Accounts}.Handle(api.Actor(c), cmds.Apply{Details: req.Details, Acceptances: req.Acceptances, Units: req.Units, Store: req.Store})
	if err != nil {
		return err
	}
	api.SetVersion(c, out.Result.LastVersion)
	return c.JSON(http.StatusCreated, AppliedResponse{out.ApplicationID, out.Passcode, out.QR, out.Result.LastVersion})
}

func (a *API) fileByProxy(c echo.Context) error {
	var req ProxyRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	out, err := cmds.FileByProxyHandler{Streams: a.Streams, Clock: a.Clock, Hasher: a.Hasher}.Handle(api.Actor(c), cmds.FileByProxy{
		ConsentID: req.ConsentID, StoreID: p.Store, StaffID: p.Subject, Details: req.Details, Acceptances: req.Acceptances, Units: req.Units})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, AppliedResponse{out.ApplicationID, out.Passcode, out.QR, out.Result.LastVersion})
}

// ConsentRequest is a proxy consent (委任状) with every required item.
type ConsentRequest struct {
	ConsentID                 string                  `json:"consent_id"`
	RequestDate               string                  `json:"request_date"`
	Applicant                 application.Applicant   `json:"applicant"`
	Agent                     *application.Agent      `json:"agent,omitempty"`
	Acceptances               application.Acceptances `json:"acceptances"`
	DelegatesSetupApplication bool                    `json:"delegates_setup_application"`
	SignedPDF                 []byte                  `json:"signed_pdf,omitempty"` // base64
	Units                     int                     `json:"units"`
	ValidFrom                 string                  `json:"valid_from,omitempty"`
	ValidTo                   string                  `json:"valid_to,omitempty"`
}

func optDate(field, s string) (domain.Date, error) {
	if s == "" {
		return domain.Date{}, nil
	}
	d, err := domain.ParseDate(s)
	if err != nil {
		return d, domain.Invalid("bad_date", "Dates are YYYY-MM-DD.").With(field, "")
	}
	return d, nil
}

func (a *API) recordConsent(c echo.Context) error {
	var req ConsentRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	rd, err := optDate("request_date", req.RequestDate)
	if err != nil {
		return err
	}
	from, err := optDate("valid_from", req.ValidFrom)
	if err != nil {
		return err
	}
	to, err := optDate("valid_to", req.ValidTo)
	if err != nil {
		return err
	}
	res, err := cmds.RecordConsentHandler{Streams: a.Streams, Clock: a.Clock, Documents: a.Documents}.Handle(api.Actor(c), cmds.RecordConsent{
		Consent: application.RecordConsent{ConsentID: req.ConsentID, StoreID: p.Store, StaffID: p.Subject, RequestDate: rd,
			Applicant: req.Applicant, Agent: req.Agent, Acceptances: req.Acceptances, DelegatesSetupApplication: req.DelegatesSetupApplication,
			Units: req.Units, ValidFrom: from, ValidTo: to},
		SignedPDF: req.SignedPDF})
	if err != nil {
		return err
	}
	api.SetVersion(c, res.LastVersion)
	return c.JSON(http.StatusCreated, map[string]any{"consent_id": req.ConsentID, "version": res.LastVersion})
}

// ApplicationStatus is what a customer sees of their application.
type ApplicationStatus struct {
	ApplicationID     string     `json:"application_id"`
	Status            string     `json:"status"`
	CompletedAt       time.Time  `json:"completed_at"`
	ReceptionDeadline time.Time  `json:"reception_deadline"`
	ReceivedAt        *time.Time `json:"received_at,omitempty"`
	ValidUntil        time.Time  `json:"valid_until"`
	Certificate       string     `json:"certificate,omitempty"`
}

var statusNames = map[application.Status]string{application.StatusCompleted: "awaiting_reception", application.StatusReceived: "received",
	application.StatusExpired: "expired", application.StatusRetentionEnded: "retention_ended"}

func (a *API) myApplication(c echo.Context) error {
	id := api.PrincipalOf(c).Application
	app, v, err := a.reads().LiveApplication(c.Request().Context(), id)
	if err != nil {
		return err
	}
	out := ApplicationStatus{ApplicationID: id, Status: statusNames[app.Status()], CompletedAt: app.CompletedAt(), ReceptionDeadline: app.ReceptionDeadline(), ValidUntil: app.RetentionEnd()}
	if !app.ReceivedAt().IsZero() {
		t := app.ReceivedAt()
		out.ReceivedAt = &t
	}
	switch number, err := a.Views.LatestCertificate(c.Request().Context(), id); {
	case err == nil:
		out.Certificate = number
	case !errors.Is(err, certificate.ErrNotFound):
		return err
	}
	api.SetVersion(c, v)
	return c.JSON(http.StatusOK, out)
}

// ReceiveRequest: application ID + passcode, or the QR payload.
type ReceiveRequest = CustomerLogin

// ReceiveResponse names the setup the tablet continues with.
type ReceiveResponse struct {
	ApplicationID string `json:"application_id"`
	SetupID       string `json:"setup_id"`
	Version       int64  `json:"version"`
	NextStep      string `json:"next_step"`
}

func (a *API) receive(c echo.Context) error {
	var req ReceiveRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	out, err := cmds.ReceiveHandler{Streams: a.Streams, Clock: a.Clock, Hasher: a.Hasher}.Handle(api.Actor(c), cmds.Receive{Credentials: req.credentials(), StoreID: p.Store, StaffID: p.Subject})
	if err != nil {
		return err
	}
	api.SetVersion(c, out.SetupVersion)
	return c.JSON(http.StatusCreated, ReceiveResponse{out.ApplicationID, out.SetupID, out.SetupVersion, setup.StepVisitor.String()})
}

// SetupView is a setup as the tablet sees it.
type SetupView struct {
	SetupID       string `json:"setup_id"`
	ApplicationID string `json:"application_id"`
	StoreID       string `json:"store_id"`
	NextStep      string `json:"next_step"`
	Version       int64  `json:"version"`
}

func (a *API) getSetup(c echo.Context) error {
	s, v, err := a.reads().Setup(c.Request().Context(), c.Param("id"), api.PrincipalOf(c).Store)
	if err != nil {
		return err
	}
	api.SetVersion(c, v)
	return c.JSON(http.StatusOK, SetupView{s.ID(), s.ApplicationID(), s.StoreID(), s.NextStep().String(), v})
}

// StepResponse is the setup's new version and next step.
type StepResponse struct {
	SetupID           string `json:"setup_id"`
	Version           int64  `json:"version"`
	CertificateNumber string `json:"certificate_number,omitempty"`
}

// step runs one tablet step whose body decodes into B; input turns the body
// into the step's command input.
func step[B any](a *API, input func(B) cmds.StepInput) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b B
		if err := api.Bind(c, &b); err != nil {
			return err
		}
		expected, err := api.IfMatch(c)
		if err != nil {
			return err
		}
		p := api.PrincipalOf(c)
		res, err := cmds.StepHandler{Streams: a.Streams, Clock: a.Clock}.Handle(api.Actor(c), cmds.Step{
			SetupID: c.Param("id"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: expected, Input: input(b)})
		if err != nil {
			return err
		}
		api.SetVersion(c, res.LastVersion)
		return c.JSON(http.StatusOK, StepResponse{SetupID: c.Param("id"), Version: res.LastVersion})
	}
}

// VehicleRequest: the 車検証 QR payload, or the fields.
type VehicleRequest struct {
	InspectionQR string `json:"inspection_qr,omitempty"`
	setup.RecordVehicle
}

// OBURequest is the OBU data.
type OBURequest struct {
	Kind   setup.OBUKind `json:"kind"`
	Number string        `json:"number"`
}

// Empty is a step without input.
type Empty struct{}

func (a *API) notify(c echo.Context) error {
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	out, err := cmds.NotifyCompletionHandler{Streams: a.Streams, Clock: a.Clock, Codes: a.Verifier}.Handle(api.Actor(c), cmds.NotifyCompletion{
		SetupID: c.Param("id"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: expected})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StepResponse{SetupID: c.Param("id"), CertificateNumber: out.CertificateNumber})
}

func (a *API) pdf(c echo.Context, cert *certificate.Certificate) error {
	code := a.Verifier.Code(cert.CanonicalContent())
	b, err := a.Renderer.Render(cert.Content(), code, a.PublicURL+"/v1/verify/"+code)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+cert.Content().Number+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", b)
}

func (a *API) download(c echo.Context) error {
	cert, err := cmds.DownloadHandler{Streams: a.Streams, Clock: a.Clock}.Handle(api.Actor(c), cmds.Download{Token: c.Param("token")})
	if err != nil {
		return err
	}
	return a.pdf(c, cert)
}

func (a *API) myCertificate(c echo.Context) error {
	id := api.PrincipalOf(c).Application
	ctx := c.Request().Context()
	if _, _, err := a.reads().LiveApplication(ctx, id); err != nil {
		return err
	}
	number, err := a.Views.LatestCertificate(ctx, id)
	if err != nil {
		return err
	}
	cert, _, err := a.reads().Certificate(ctx, number)
	if err != nil {
		return err
	}
	return a.pdf(c, cert)
}

func (a *API) print(c echo.Context) error {
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	cert, _, err := cmds.PrintHandler{Streams: a.Streams, Clock: a.Clock}.Handle(api.Actor(c), cmds.Print{Number: c.Param("number"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: expected})
	if err != nil {
		return err
	}
	return a.pdf(c, cert)
}

func (a *API) reissue(c echo.Context) error {
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	res, err := cmds.ReissueLinkHandler{Streams: a.Streams, Clock: a.Clock}.Handle(api.Actor(c), cmds.ReissueLink{Number: c.Param("number"), StoreID: p.Store, ExpectedVersion: expected})
	if err != nil {
		return err
	}
	api.SetVersion(c, res.LastVersion)
	return c.JSON(http.StatusOK, map[string]any{"number": c.Param("number"), "version": res.LastVersion})
}

// Verification is the public answer: the certificate's true content and
// status ("valid" while the application's 5-year retention runs, "expired"
// after it). The plate and OBU number are personal: they are shown only
// while the certificate is valid, empty after.
type Verification struct {
	Valid   bool                `json:"valid"`
	Status  string              `json:"status"`
	Code    string              `json:"code"`
	Content certificate.Content `json:"content"`
}

func (a *API) verify(c echo.Context) error {
	v, err := a.Views.CertificateByCode(c.Request().Context(), c.Param("code"), a.Clock.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Verification{Valid: v.Status == "valid", Status: v.Status, Code: c.Param("code"), Content: v.Content})
}
