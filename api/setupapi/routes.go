package setupapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain/setup"
	"github.com/gantry-etc/gantry/projections/privacy"
)

var (
	store = []api.Role{api.RoleStaff, api.RoleStoreAdmin}
	// overseers read the store views (a store its own rows only).
	overseers = []api.Role{api.RoleStaff, api.RoleStoreAdmin, api.RoleOperatorAdmin, api.RoleAuditor, api.RoleRegulator}
	// consentReaders read the proxy-consent history, which names the
	// applicants: the stores (their own), the operator and auditors — not
	// regulators, whose business is the audit trail, not personal data.
	consentReaders = []api.Role{api.RoleStaff, api.RoleStoreAdmin, api.RoleOperatorAdmin, api.RoleAuditor}
	admin          = []api.Role{api.RoleOperatorAdmin}
	customer       = []api.Role{api.RoleCustomer}
)

// Routes registers the setup API on s.
func (a *API) Routes(s *api.Server) {
	const tag = "setup"
	add := func(op api.Op) { op.Tag = tag; s.Handle(op) }
	post, get := http.MethodPost, http.MethodGet

	// Login and accounts.
	add(api.Op{Method: post, Path: "/v1/auth/staff/login", ID: "staffLogin", Summary: "Staff login with staff ID + password; the token is scoped to the staff's store.", Request: StaffLogin{}, Response: TokenResponse{}, Handler: a.staffLogin(s, passwordLogin{a}), Limit: staffLoginLimit})
	add(api.Op{Method: post, Path: "/v1/auth/customer/login", ID: "customerLogin", Summary: "Customer login with application ID + passcode (or the QR payload).", Request: CustomerLogin{}, Response: TokenResponse{}, Handler: a.customerLogin(s), Limit: customerLoginLimit})
	add(api.Op{Method: post, Path: "/v1/admin/staff", ID: "createStaff", Summary: "Create a staff account (and its store).", Roles: admin, Command: true, Request: NewStaff{}, Status: 201, Handler: a.createStaff})
	add(api.Op{Method: http.MethodPatch, Path: "/v1/admin/staff/:id", ID: "changeStaff", Summary: "Change a staff account's role and/or store (If-Match: its version); every token issued to it so far is revoked in the same transaction.", Roles: admin, Command: true, Request: StaffChange{}, Response: StaffAccountResponse{}, Handler: a.changeStaff})
	add(api.Op{Method: get, Path: "/v1/admin/privacy/:subject", ID: "privacyReport", Summary: "Where a data subject's personal data lives (streams, views, documents, bus) and whether it is erased; holds no personal data itself.", Roles: admin, Response: privacy.Report{}, Handler: a.privacyReport})
	add(api.Op{Method: post, Path: "/v1/admin/applications/:id/unlock", ID: "unlockReception", Summary: "Lift a reception lock after 5 wrong passcodes.", Roles: admin, Command: true, Handler: a.unlock})

	// Customer.
	add(api.Op{Method: post, Path: "/v1/applications", ID: "apply", Summary: "Web application (all four regulations must be accepted); answers ID, passcode and QR payload, also mailed.", Command: true, Request: WebApplyRequest{}, Response: AppliedResponse{}, Status: 201, Handler: a.apply, Limit: applyLimit})
	add(api.Op{Method: get, Path: "/v1/my/application", ID: "myApplication", Summary: "The customer's application status.", Roles: customer, Response: ApplicationStatus{}, Handler: a.myApplication})
	add(api.Op{Method: get, Path: "/v1/my/certificate", ID: "myCertificate", Summary: "The customer's setup certificate (PDF).", Roles: customer, Produces: "application/pdf", Handler: a.myCertificate})
	add(api.Op{Method: get, Path: "/v1/certificate-links/:token", ID: "downloadCertificate", Summary: "Download the certificate from the mailed link (valid 60 days from sending).", Produces: "application/pdf", Handler: a.download, Limit: downloadLimit})
	add(api.Op{Method: get, Path: "/v1/verify/:code", ID: "verifyCertificate", Summary: "Public check of a certificate's verification code: answers its true content.", Response: Verification{}, Handler: a.verify, Limit: verifyLimit})

	// Store PC.
	add(api.Op{Method: post, Path: "/v1/consents", ID: "recordConsent", Summary: "Record a proxy consent (委任状) with an optional signed PDF.", Roles: store, Command: true, Request: ConsentRequest{}, Status: 201, Handler: a.recordConsent})
	add(api.Op{Method: post, Path: "/v1/proxy-applications", ID: "fileByProxy", Summary: "File an application by proxy under a consent (no customer mail).", Roles: store, Command: true, Request: ProxyRequest{}, Response: AppliedResponse{}, Status: 201, Handler: a.fileByProxy})
	add(api.Op{Method: post, Path: "/v1/certificates/:number/print", ID: "printCertificate", Summary: "Print a certificate of this store (logged with who).", Roles: store, Command: true, Produces: "application/pdf", Handler: a.print})
	add(api.Op{Method: post, Path: "/v1/certificates/:number/reissue-link", ID: "reissueLink", Summary: "Mail a new download link; the old one stops working.", Roles: store, Command: true, Handler: a.reissue})
	add(api.Op{Method: get, Path: "/v1/views/applications/awaiting", ID: "awaitingApplications", Summary: "Applications awaiting reception with days left of the 60.", Roles: overseers, Response: []AwaitingRow{}, Paged: true, Handler: a.awaiting})
	add(api.Op{Method: get, Path: "/v1/views/applications/received", ID: "receivedApplications", Summary: "Received applications and how long they are valid.", Roles: overseers, Response: []ReceivedRow{}, Paged: true, Handler: a.received})
	add(api.Op{Method: get, Path: "/v1/views/setups", ID: "listSetups", Summary: "Setups by status (?status=) of the caller's store.", Roles: overseers, Response: []SetupRow{}, Paged: true, Handler: a.setups,
		Query: []api.Param{api.Q("status", "Only setups in this status (e.g. completed).")}})
	add(api.Op{Method: get, Path: "/v1/views/consents", ID: "searchConsents", Summary: "Proxy consents of 5 years (?store=&applicant=&from=&to=; store staff see their own store only).", Roles: consentReaders, Response: []ConsentRow{}, Paged: true, Handler: a.consents,
		Query: []api.Param{api.Q("store", "Store ID (ignored for store staff: their own store)."), api.Q("applicant", "Part of the applicant's name."),
			api.Q("from", "First request date, YYYY-MM-DD."), api.Q("to", "Last request date, YYYY-MM-DD.")}})
	add(api.Op{Method: get, Path: "/v1/views/issuance", ID: "issuanceStats", Summary: "Certificate issuance per store per day.", Roles: overseers, Response: []StatRow{}, Paged: true, Handler: a.stats})

	// Tablet: reception and the steps.
	add(api.Op{Method: post, Path: "/v1/receptions", ID: "receiveApplication", Summary: "Step 5: receive an application by ID + passcode or QR; starts the setup. Five wrong passcodes lock it.", Roles: store, Command: true, Request: ReceiveRequest{}, Response: ReceiveResponse{}, Status: 201, Handler: a.receive})
	add(api.Op{Method: get, Path: "/v1/setups/:id", ID: "getSetup", Summary: "A setup of this store and its next step (ETag: version).", Roles: store, Response: SetupView{}, Handler: a.getSetup})
	steps := []struct {
		path, id, summary string
		body              any
		h                 echo.HandlerFunc
	}{
		{"visitor", "recordVisitor", "Step 1: who came to the store.", setup.RecordVisitor{}, step(a, func(b setup.RecordVisitor) cmds.StepInput { return cmds.RecordVisitor(b) })},
		{"identity", "checkIdentity", "Step 6: identity check (本人確認).", setup.CheckIdentity{}, step(a, func(b setup.CheckIdentity) cmds.StepInput { return cmds.CheckIdentity(b) })},
		{"multiple-units", "answerMultipleUnits", "Several OBUs being installed?", setup.AnswerMultipleUnits{}, step(a, func(b setup.AnswerMultipleUnits) cmds.StepInput { return cmds.AnswerMultipleUnits(b) })},
		{"vehicle", "recordVehicle", "Step 7a: vehicle data (車検証 QR, type designation or manual).", VehicleRequest{}, step(a, func(b VehicleRequest) cmds.StepInput {
			return cmds.RecordVehicle{InspectionQR: b.InspectionQR, Vehicle: b.RecordVehicle}
		})},
		{"obu", "recordOBU", "Step 7b: OBU data (ETC / ETC2.0, management number).", OBURequest{}, step(a, func(b OBURequest) cmds.StepInput { return cmds.RecordOBU{Kind: b.Kind, Number: b.Number} })},
		// Step 8 (the setup card) is in api/stationapi: only a record Gantry
		// signed, read back from the card, is accepted.
		{"execute", "executeSetup", "Step 9: setup executed on the OBU.", Empty{}, step(a, func(Empty) cmds.StepInput { return cmds.Execute{} })},
		{"completion", "notifyCompletion", "Steps 10–11: completion notice; issues the certificate and mails the link.", nil, a.notify},
	}
	for _, st := range steps {
		add(api.Op{Method: post, Path: "/v1/setups/:id/" + st.path, ID: st.id, Summary: st.summary + " Send If-Match with the setup version; out of order → 409 naming the expected step.",
			Roles: store, Command: true, Request: st.body, Response: StepResponse{}, Handler: st.h})
	}
}

func (a *API) unlock(c echo.Context) error {
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	res, err := cmds.UnlockHandler{Streams: a.Streams, Clock: a.Clock}.Handle(api.Actor(c), cmds.Unlock{
		ApplicationID: c.Param("id"), By: api.PrincipalOf(c).Subject, ExpectedVersion: expected})
	if err != nil {
		return err
	}
	api.SetVersion(c, res.LastVersion)
	return c.NoContent(http.StatusNoContent)
}
