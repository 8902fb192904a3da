// Package stationapi is the HTTP API the store station (`gantry station`)
// calls: staff IC-card challenges, enrolment, revocation and login (card +
// PIN + face), the setup-card record and its verified write (step 8), and
// the My Number card identity check (step 6). Handlers only translate;
// commands/station decides.
package stationapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	setupcmds "github.com/gantry-etc/gantry/commands/setup"
	cmds "github.com/gantry-etc/gantry/commands/station"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/cardauth"
	"github.com/gantry-etc/gantry/domain/setup"
)

// API holds what the handlers need; cmd/gantry/app builds it.
type API struct {
	Challenges cmds.IssueChallengeHandler
	Login      cmds.CardLoginHandler
	Enrol      cmds.EnrolCardHandler
	Revoke     cmds.RevokeCardHandler
	SetupCard  cmds.SetupCardHandler
	Identity   cmds.JPKICheckHandler
	// Limit guards the public card routes (challenge, login) per client;
	// nil: no limit. Over the limit: 429.
	Limit echo.MiddlewareFunc
}

func (a *API) limited(h echo.HandlerFunc) echo.HandlerFunc {
	if a.Limit == nil {
		return h
	}
	return a.Limit(h)
}

var (
	store      = []api.Role{api.RoleStaff, api.RoleStoreAdmin}
	cardAdmins = []api.Role{api.RoleStoreAdmin, api.RoleOperatorAdmin}
)

const (
	post, get   = http.MethodPost, http.MethodGet
	stepSummary = " Send If-Match with the setup version; out of order → 409 naming the expected step."
)

// Routes registers the station API on s.
func (a *API) Routes(s *api.Server) {
	add := func(op api.Op) { op.Tag = "station"; s.Handle(op) }
	add(api.Op{Method: post, Path: "/v1/auth/staff/card/challenge", ID: "staffCardChallenge", Summary: "A one-time challenge for staff IC-card login (expires in a minute, single use).", Response: ChallengeResponse{}, Status: 201, Handler: a.limited(a.challenge(cardauth.PurposeStaffLogin))})
	add(api.Op{Method: post, Path: "/v1/auth/staff/card/login", ID: "staffCardLogin", Summary: "Staff login with IC card (signature over the challenge after the card PIN) and the face step; the token is issued only after both factors.", Request: CardLoginRequest{}, Response: TokenResponse{}, Handler: a.limited(a.login(s))})
	add(api.Op{Method: post, Path: "/v1/staff-cards/challenge", ID: "staffCardEnrolChallenge", Summary: "A one-time challenge the card signs to prove it holds the key being enrolled.", Roles: cardAdmins, Response: ChallengeResponse{}, Status: 201, Handler: a.challenge(cardauth.PurposeStaffEnrol)})
	add(api.Op{Method: post, Path: "/v1/staff-cards", ID: "enrolStaffCard", Summary: "Enrol a staff IC card (serial + ECDSA P-256 public key) to a staff account; a store admin only for its own store.", Roles: cardAdmins, Command: true, Request: EnrolRequest{}, Status: 201, Handler: a.enrol})
	add(api.Op{Method: post, Path: "/v1/staff-cards/:serial/revoke", ID: "revokeStaffCard", Summary: "Revoke a lost staff card; its logins fail from then on.", Roles: cardAdmins, Command: true, Status: 204, Handler: a.revoke})
	add(api.Op{Method: get, Path: "/v1/setups/:id/card-record", ID: "setupCardRecord", Summary: "Step 8: the signed setup record (vehicle, OBU, setup, store, issue time) the station writes to the setup card.", Roles: store, Response: RecordResponse{}, Handler: a.record})
	add(api.Op{Method: post, Path: "/v1/setups/:id/card", ID: "writeCard", Summary: "Step 8: the setup card was written; accepted only for Gantry's own record whose read-back SHA-256 matches." + stepSummary, Roles: store, Command: true, Request: CardWriteRequest{}, Response: StepResponse{}, Handler: a.writeCard})
	add(api.Op{Method: post, Path: "/v1/setups/:id/vehicle/inspection-qr", ID: "recordVehicleFromInspectionQR", Summary: "Step 7a from the 車検証's two-dimensional codes (registered or kei car, combined by the station): plate and 型式指定番号・類別区分番号 from the codes; gross weight and vehicle type as confirmed by staff." + stepSummary, Roles: store, Command: true, Request: InspectionQRRequest{}, Response: VehicleQRResponse{}, Handler: a.vehicleQR})
	add(api.Op{Method: post, Path: "/v1/setups/:id/identity/jpki-challenge", ID: "jpkiChallenge", Summary: "Step 6: a one-time challenge for the My Number card (JPKI) identity check of this setup.", Roles: store, Response: ChallengeResponse{}, Status: 201, Handler: a.jpkiChallenge})
	add(api.Op{Method: post, Path: "/v1/setups/:id/identity/jpki", ID: "checkIdentityJPKI", Summary: "Step 6 with a My Number card: Gantry verifies the signature, the chain to the JPKI CA and revocation (OCSP); records result, method, time, certificate serial and issuer only." + stepSummary, Roles: store, Command: true, Request: JPKIRequest{}, Response: JPKIResponse{}, Handler: a.jpki})
}

// ChallengeResponse is a one-time challenge.
type ChallengeResponse struct {
	ChallengeID string    `json:"challenge_id"`
	Nonce       []byte    `json:"nonce"` // base64; the card signs cardauth.Digest(purpose, nonce)
	ExpiresAt   time.Time `json:"expires_at"`
}

func (a *API) challenge(purpose string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ch, err := a.Challenges.Handle(c.Request().Context(), cmds.IssueChallenge{Purpose: purpose})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, ChallengeResponse{ch.ID, ch.Nonce, ch.ExpiresAt})
	}
}

// CardLoginRequest is what the station sends after the card signed.
type CardLoginRequest struct {
	ChallengeID string `json:"challenge_id"`
	CardSerial  string `json:"card_serial"`
	Signature   []byte `json:"signature"`            // base64 DER ECDSA
	FaceImage   []byte `json:"face_image,omitempty"` // base64 camera image for the face step
}

// TokenResponse is a login's answer.
type TokenResponse struct {
	Token   string `json:"token"`
	Role    string `json:"role"`
	Store   string `json:"store,omitempty"`
	StaffID string `json:"staff_id"`
}

func (a *API) login(s *api.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req CardLoginRequest
		if err := api.Bind(c, &req); err != nil {
			return err
		}
		st, err := a.Login.Handle(c.Request().Context(), cmds.CardLogin{ChallengeID: req.ChallengeID, CardSerial: req.CardSerial, Signature: req.Signature, FaceImage: req.FaceImage})
		if err != nil {
			return unauthenticated(err)
		}
		p := api.Principal{Role: api.Role(st.Role), Subject: st.StaffID, Store: st.StoreID}
		return c.JSON(http.StatusOK, TokenResponse{Token: s.Tokens().Issue(p), Role: st.Role, Store: st.StoreID, StaffID: st.StaffID})
	}
}

// unauthenticated turns a refused login (a Forbidden or Gone domain error)
// into 401 with the same code and reason.
func unauthenticated(err error) error {
	var de *domain.Error
	if errors.As(err, &de) && (de.Kind == domain.KindForbidden || de.Kind == domain.KindGone) {
		return &api.ProblemError{Problem: api.Problem{Status: http.StatusUnauthorized, Code: de.Code, Detail: de.Detail, Field: de.Field}}
	}
	return err
}

// EnrolRequest registers a card; the card signed the enrolment challenge.
type EnrolRequest struct {
	StaffID     string `json:"staff_id"`
	CardSerial  string `json:"card_serial"`
	PublicKey   []byte `json:"public_key"` // base64 uncompressed P-256 point
	ChallengeID string `json:"challenge_id"`
	Signature   []byte `json:"signature"`
}

func admin(c echo.Context) cmds.Admin {
	p := api.PrincipalOf(c)
	return cmds.Admin{StaffID: p.Subject, StoreID: p.Store}
}

func (a *API) enrol(c echo.Context) error {
	var req EnrolRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	err := a.Enrol.Handle(c.Request().Context(), cmds.EnrolCard{By: admin(c), StaffID: req.StaffID, CardSerial: req.CardSerial,
		PublicKey: req.PublicKey, ChallengeID: req.ChallengeID, Signature: req.Signature})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"card_serial": req.CardSerial, "staff_id": req.StaffID})
}

func (a *API) revoke(c echo.Context) error {
	if err := a.Revoke.Handle(c.Request().Context(), cmds.RevokeCard{By: admin(c), CardSerial: c.Param("serial")}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// RecordResponse is the card bytes to write (base64).
type RecordResponse struct {
	Record []byte `json:"record"`
}

func (a *API) record(c echo.Context) error {
	rec, err := a.SetupCard.Record(c.Request().Context(), cmds.SetupCardRecord{SetupID: c.Param("id"), StoreID: api.PrincipalOf(c).Store})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, RecordResponse{Record: rec})
}

// CardWriteRequest is step 8 as the station saw it on the card.
type CardWriteRequest struct {
	CardSerial string `json:"card_serial"`
	ReadBack   []byte `json:"read_back"` // base64 of the bytes read back
	ReadHash   string `json:"read_hash"` // hex SHA-256 of read_back
}

// StepResponse is the setup's new version.
type StepResponse struct {
	SetupID string `json:"setup_id"`
	Version int64  `json:"version"`
}

// stepDone answers as soon as the step is committed; it does not wait for
// the views (the answer carries Gantry-Position for a read that needs them).
func (a *API) stepDone(c echo.Context, res es.AppendResult) error {
	api.SetVersion(c, res.LastVersion)
	return c.JSON(http.StatusOK, StepResponse{SetupID: c.Param("id"), Version: res.LastVersion})
}

func (a *API) writeCard(c echo.Context) error {
	var req CardWriteRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	res, err := a.SetupCard.Write(api.Actor(c), cmds.WriteSetupCard{SetupID: c.Param("id"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: expected,
		CardSerial: req.CardSerial, ReadBack: req.ReadBack, ReadHash: req.ReadHash})
	if err != nil {
		return err
	}
	return a.stepDone(c, res)
}

func (a *API) jpkiChallenge(c echo.Context) error {
	if err := a.SetupCard.Exists(c.Request().Context(), c.Param("id"), api.PrincipalOf(c).Store); err != nil {
		return err
	}
	ch := a.Identity.Challenges.Issue(c.Param("id"), a.Identity.Clock.Now())
	return c.JSON(http.StatusCreated, ChallengeResponse{ch.ID, ch.Nonce, ch.ExpiresAt})
}

// JPKIRequest is what the station read from the My Number card.
type JPKIRequest struct {
	ChallengeID string `json:"challenge_id"`
	Certificate []byte `json:"certificate"` // base64 DER of the user-authentication certificate
	Signature   []byte `json:"signature"`   // base64 RSA PKCS#1 v1.5 signature
}

// JPKIResponse is the recorded result.
type JPKIResponse struct {
	SetupID string `json:"setup_id"`
	Version int64  `json:"version"`
	Passed  bool   `json:"passed"`
	Status  string `json:"revocation_status"` // good, revoked, unknown
}

func (a *API) jpki(c echo.Context) error {
	var req JPKIRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	r, err := a.Identity.Handle(api.Actor(c), cmds.JPKICheck{SetupID: c.Param("id"), StoreID: p.Store, StaffID: p.Subject, ExpectedVersion: expected,
		ChallengeID: req.ChallengeID, Certificate: req.Certificate, Signature: req.Signature})
	if err != nil {
		return err
	}
	api.SetVersion(c, r.Result.LastVersion)
	st := map[cmds.RevocationStatus]string{cmds.Good: "good", cmds.Revoked: "revoked", cmds.Unknown: "unknown"}[r.Status]
	return c.JSON(http.StatusOK, JPKIResponse{SetupID: c.Param("id"), Version: r.Result.LastVersion, Passed: r.Passed, Status: st})
}

// InspectionQRRequest is step 7a from the 車検証's two-dimensional codes
// as the station combined them (one text per logical code, structured
// append parts joined), plus what the codes do not carry.
type InspectionQRRequest struct {
	Codes         []string `json:"codes"`
	GrossWeightKg int      `json:"gross_weight_kg"` // 車両総重量, as printed on the certificate
	VehicleType   string   `json:"vehicle_type"`    // 車種, e.g. 普通乗用
	Towing        bool     `json:"towing"`
}

// VehicleQRResponse is the step's result and what was read.
type VehicleQRResponse struct {
	SetupID               string `json:"setup_id"`
	Version               int64  `json:"version"`
	Kind                  string `json:"kind"` // registered or kei
	Plate                 string `json:"plate"`
	TypeDesignationNumber string `json:"type_designation_number,omitempty"`
	CategoryNumber        string `json:"category_number,omitempty"`
}

func (a *API) vehicleQR(c echo.Context) error {
	var req InspectionQRRequest
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	q, err := setup.ParseInspectionQRCodes(req.Codes)
	if err != nil {
		return err
	}
	expected, err := api.IfMatch(c)
	if err != nil {
		return err
	}
	p := api.PrincipalOf(c)
	res, err := setupcmds.StepHandler{Streams: a.SetupCard.Streams, Clock: a.SetupCard.Clock}.Handle(api.Actor(c), setupcmds.Step{SetupID: c.Param("id"), StoreID: p.Store, StaffID: p.Subject,
		ExpectedVersion: expected, Input: setupcmds.RecordVehicle{Vehicle: setup.RecordVehicleFromQR(q, req.GrossWeightKg, req.VehicleType, req.Towing)}})
	if err != nil {
		return err
	}
	api.SetVersion(c, res.LastVersion)
	return c.JSON(http.StatusOK, VehicleQRResponse{SetupID: c.Param("id"), Version: res.LastVersion, Kind: string(q.Kind), Plate: q.Plate.String(),
		TypeDesignationNumber: q.TypeDesignationNumber, CategoryNumber: q.CategoryNumber})
}
