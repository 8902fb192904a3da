package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/gantry-etc/gantry/api"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// applicationFields are the form's fields, named like the domain's error
// fields so that an error lands next to its input.
var applicationFields = []string{"store", "kind", "applicant.corporation_name", "applicant.name", "applicant.address",
	"applicant.phone", "applicant.email", "vehicle_user", "has_agent", "agent.name", "agent.address", "agent.phone", "units",
	"acceptances.personal_data_policy", "acceptances.etc_system_terms", "acceptances.dsrc_terms", "acceptances.probe_data_policy"}

// applicationPage is the data of the form and confirmation pages.
type applicationPage struct {
	Form        *form
	Regulations []regulation
	// Action is where the form posts (customer or proxy filing).
	Action string
	Proxy  bool
}

// details turns the form into the command's input. A number of units that is
// not a number is the domain's invalid_units error.
func (f *form) application() (application.Details, application.Acceptances, int, error) {
	d := application.Details{
		Applicant: application.Applicant{Name: f.V("applicant.name"), Address: f.V("applicant.address"),
			Phone: f.V("applicant.phone"), Email: f.V("applicant.email")},
		VehicleUser: f.V("vehicle_user"),
	}
	if f.V("kind") == "corporation" {
		d.Applicant.CorporationName = f.V("applicant.corporation_name")
	}
	if f.Checked("has_agent") {
		d.Agent = &application.Agent{Name: f.V("agent.name"), Address: f.V("agent.address"), Phone: f.V("agent.phone")}
	}
	acc := application.Acceptances{
		PersonalDataPolicy: f.Checked("acceptances.personal_data_policy"), ETCSystemTerms: f.Checked("acceptances.etc_system_terms"),
		DSRCTerms: f.Checked("acceptances.dsrc_terms"), ProbeDataPolicy: f.Checked("acceptances.probe_data_policy"),
	}
	units, err := strconv.Atoi(f.V("units"))
	if err != nil {
		return d, acc, 0, application.ErrInvalidUnits.With("units", "")
	}
	return d, acc, units, nil
}

// applyForm is the application form; the store's QR code opens it as
// /apply?store=ID, and the store is shown prefilled.
func (s *Site) applyForm(c echo.Context) error {
	f := newForm()
	f.Values["store"] = c.QueryParam("store")
	f.Values["kind"] = "person"
	f.Values["units"] = "1"
	// A QR link naming no store shows the error beside the store at once.
	if err := s.checkStore(c, f); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "apply", applicationPage{Form: f, Regulations: regulations, Action: "/apply/confirm"})
}

// applyConfirm checks the form with the domain's own rules (the
// application aggregate's Complete decision on a preview, nothing is
// appended) and shows it for confirmation, or the form with the errors.
func (s *Site) applyConfirm(c echo.Context) error {
	f := newForm()
	f.read(c, applicationFields...)
	if err := s.validate(f); err != nil {
		return err
	}
	if err := s.checkStore(c, f); err != nil {
		return err
	}
	page := applicationPage{Form: f, Regulations: regulations, Action: "/apply/confirm"}
	if len(f.Errors) > 0 || f.Alert != "" {
		return s.render(c, http.StatusUnprocessableEntity, "apply", page)
	}
	return s.render(c, http.StatusOK, "confirm", page)
}

// checkStore checks the store named by the QR link with the command's own
// check (cmds.ApplyHandler's Stores port).
func (s *Site) checkStore(c echo.Context, f *form) error {
	store := f.V("store")
	if store == "" {
		return nil
	}
	ok, err := s.Stores.StoreExists(c.Request().Context(), store)
	if err != nil {
		return err
	}
	if !ok {
		return f.fail(application.ErrUnknownStore.With("store", ""))
	}
	return nil
}

// validate runs the domain's decision on a preview application.
func (s *Site) validate(f *form) error {
	d, acc, units, err := f.application()
	if err == nil {
		preview, _ := application.ParseID("preview")
		_, err = application.New().Complete(application.Complete{ID: preview, Details: d, Acceptances: acc, Units: units, PasscodeHash: "preview"}, s.Clock.Now())
	}
	if err != nil {
		return f.fail(err)
	}
	return nil
}

type appliedPage struct {
	ApplicationID, Passcode string
	// QR is a data: URI of the QR code's PNG (made here, so safe to trust).
	QR    template.URL
	Email string
}

func (s *Site) applySubmit(c echo.Context) error {
	f := newForm()
	f.read(c, applicationFields...)
	d, acc, units, err := f.application()
	if err == nil {
		var out cmds.Applied
		out, err = cmds.ApplyHandler{Streams: s.Streams, Clock: s.Clock, Hasher: s.Hasher, Stores: s.Stores}.Handle(actor(c), cmds.Apply{Details: d, Acceptances: acc, Units: units, Store: f.V("store")})
		if err == nil {
			s.wait(c.Request().Context(), out.Result)
			png, err := qrcode.Encode(out.QR, qrcode.Medium, 256)
			if err != nil {
				return err
			}
			return s.render(c, http.StatusCreated, "applied", appliedPage{ApplicationID: out.ApplicationID, Passcode: out.Passcode,
				QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), Email: d.Applicant.Email})
		}
	}
	if err := f.fail(err); err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, "apply", applicationPage{Form: f, Regulations: regulations, Action: "/apply/confirm"})
}

// customerLoginForm: application ID + passcode; the QR link
// (/my/login?qr=PAYLOAD) logs in directly.
func (s *Site) customerLoginForm(c echo.Context) error {
	f := newForm()
	if qr := c.QueryParam("qr"); qr != "" {
		return s.customerSession(c, f, cmds.Credentials{QR: qr})
	}
	return s.render(c, http.StatusOK, "customer_login", f)
}

func (s *Site) customerLogin(c echo.Context) error {
	f := newForm()
	f.read(c, "application_id", "passcode")
	return s.customerSession(c, f, cmds.Credentials{ApplicationID: f.V("application_id"), Passcode: f.V("passcode")})
}

func (s *Site) customerSession(c echo.Context, f *form, cr cmds.Credentials) error {
	id, err := cmds.CustomerLoginHandler{Streams: s.Streams, Clock: s.Clock, Hasher: s.Hasher, DummyHash: s.LoginDummyHash}.Handle(c.Request().Context(), cmds.CustomerLogin{Credentials: cr})
	if errors.Is(err, cmds.ErrBadCustomerCredentials) {
		f.Alert = messages["bad_credentials"]
		return s.render(c, http.StatusUnauthorized, "customer_login", f)
	}
	if err != nil {
		if err := f.fail(err); err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "customer_login", f)
	}
	s.setSession(c, api.Principal{Role: api.RoleCustomer, Subject: id, Application: id})
	return c.Redirect(http.StatusSeeOther, "/my")
}

type statusPage struct {
	ApplicationID string
	Received      bool
	ReceivedAt    time.Time
	CompletedAt   time.Time
	Deadline      time.Time
	DaysLeft      int
	ValidUntil    time.Time
	Certificate   string
	Expired       bool
}

// myStatus: received or not, days left of the 60, the certificate while the
// application lives.
func (s *Site) myStatus(c echo.Context) error {
	id := principal(c).Application
	ctx := c.Request().Context()
	app, _, err := cmds.Reads{Streams: s.Streams}.LiveApplication(ctx, id)
	if err != nil {
		return err
	}
	pg := statusPage{ApplicationID: id, CompletedAt: app.CompletedAt(), Deadline: app.ReceptionDeadline(), ValidUntil: app.RetentionEnd(),
		Received: app.Status() == application.StatusReceived, ReceivedAt: app.ReceivedAt()}
	if !pg.Received {
		pg.DaysLeft = daysLeft(s.Clock.Now(), pg.Deadline)
	}
	switch number, err := s.Views.LatestCertificate(ctx, id); {
	case err == nil:
		pg.Certificate = number
	case !errors.Is(err, certificate.ErrNotFound):
		return err
	}
	return s.render(c, http.StatusOK, "status", pg)
}

// daysLeft counts whole days from now to the deadline, as the awaiting
// view does (projections/setup.Reader.Awaiting).
func daysLeft(now, deadline time.Time) int {
	return max(int(deadline.Sub(now).Hours()/24), 0)
}

func (s *Site) myCertificate(c echo.Context) error {
	id := principal(c).Application
	ctx := c.Request().Context()
	if _, _, err := (cmds.Reads{Streams: s.Streams}).LiveApplication(ctx, id); err != nil {
		return err
	}
	number, err := s.Views.LatestCertificate(ctx, id)
	if err != nil {
		return err
	}
	cert, _, err := cmds.Reads{Streams: s.Streams}.Certificate(ctx, number)
	if err != nil {
		return err
	}
	return s.certificatePDF(c, cert)
}
