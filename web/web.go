// Package web is Gantry's server-rendered web pages for the people who use
// it: customers (smartphone-first application and status), store staff (the
// store management site) and — as they land — finance and auditors.
//
// The pages only translate HTML forms: every state change goes through the
// same command handlers as the JSON API (commands/setup, commands/accounts)
// and every list through the same readers (projections/setup.Reader). A
// domain validation error (domain.Error with Field) is shown next to its
// field, in Japanese from the message table in messages.go.
//
// Sessions are the API's signed tokens (api.Tokens) in an HttpOnly,
// SameSite=Lax cookie (Secure over TLS); every form carries a CSRF token
// (echo's CSRF middleware, double-submit cookie). Pages are gated by the same
// roles as the API and scoped to the caller's store or application.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/api/auditapi"
	"github.com/gantry-etc/gantry/api/cardsapi"
	"github.com/gantry-etc/gantry/commands"
	"github.com/gantry-etc/gantry/commands/accounts"
	es "github.com/gantry-etc/gantry/commands/eventstore"
	cmds "github.com/gantry-etc/gantry/commands/setup"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
	proj "github.com/gantry-etc/gantry/projections/setup"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Site holds what the pages need; cmd/gantry/app builds it from the same
// parts as the setup API.
type Site struct {
	Tokens   *api.Tokens
	Streams  commands.Streams
	Clock    commands.Clock
	Hasher   cmds.Hasher
	Views    proj.Reader
	Accounts accounts.StaffFinder
	// Stores checks the store named by a QR link (an existing store code).
	Stores    cmds.Stores
	Documents cmds.DocumentStore
	Renderer  interface {
		Render(c certificate.Content, code, verifyURL string) ([]byte, error)
	}
	// Codes computes a certificate's verification code (setupapi.CodeKey).
	Codes     cmds.CodeMaker
	PublicURL string
	// Cards is the cards feature's service (its command handlers, reader
	// and invoice renderer); nil leaves the finance pages out.
	Cards *cardsapi.Service
	// Audit is the audit feature's service (its read recorder and
	// reader); nil leaves the auditor pages out.
	Audit   *auditapi.Service
	WaitFor func(ctx context.Context, pos es.Position) error
	Log     *slog.Logger
	// SecureCookies marks cookies Secure (the site is served over TLS:
	// GANTRY_PUBLIC_URL is https). The session cookie is also Secure on a
	// TLS request.
	SecureCookies bool
	// BootstrapID/BootstrapPassword: the configured operator admin.
	BootstrapID, BootstrapPassword string
	// LoginDummyHash is a hash of the configured cost that no secret
	// matches: an unknown staff or application ID costs the same slow hash.
	LoginDummyHash string

	pages map[string]map[string]*template.Template // by language, then page
}

// Page is one route of the site and the roles that may open it (empty:
// public). The page-access test checks every page against its own table.
type Page struct {
	Method, Path string
	Roles        []api.Role
	handler      echo.HandlerFunc
}

// The role groups of the pages, the same as the API's.
var (
	roleCustomer = []api.Role{api.RoleCustomer}
	roleStore    = []api.Role{api.RoleStaff, api.RoleStoreAdmin}
	roleFinance  = []api.Role{api.RoleFinance}
	// roleAuditors as the audit API: auditors and the operator admin.
	roleAuditors = []api.Role{api.RoleAuditor, api.RoleOperatorAdmin}
)

// sessionCookie holds the session token (api.Tokens).
const sessionCookie = "gantry_session"

// Pages returns the site's routes.
func (s *Site) Pages() []Page {
	get, post := http.MethodGet, http.MethodPost
	pages := []Page{
		{get, "/", nil, s.home},
		// Customer.
		{get, "/apply", nil, s.applyForm},
		{post, "/apply/confirm", nil, s.applyConfirm},
		{post, "/apply", nil, s.applySubmit},
		{get, "/my/login", nil, s.customerLoginForm},
		{post, "/my/login", nil, s.customerLogin},
		{get, "/my", roleCustomer, s.myStatus},
		{get, "/my/certificate", roleCustomer, s.myCertificate},
		// Staff (store, finance, auditors log in here).
		{get, "/staff/login", nil, s.staffLoginForm},
		{post, "/staff/login", nil, s.staffLogin},
		{post, "/logout", nil, s.logout},
		// Store management site.
		{get, "/store", roleStore, s.storeHome},
		{post, "/store/receive", roleStore, s.storeReceive},
		{get, "/store/setups/:id", roleStore, s.storeSetup},
		{post, "/store/setups/:id/:step", roleStore, s.storeStep},
		{get, "/store/certificates/:number", roleStore, s.storeCertificate},
		{post, "/store/certificates/:number/print", roleStore, s.storePrint},
		{post, "/store/certificates/:number/reissue-link", roleStore, s.storeReissue},
		{get, "/store/consents/new", roleStore, s.consentForm},
		{post, "/store/consents", roleStore, s.consentSubmit},
		{get, "/store/proxy/new", roleStore, s.proxyForm},
		{post, "/store/proxy", roleStore, s.proxySubmit},
	}
	if s.Audit != nil {
		pages = append(pages, Page{get, "/audit", roleAuditors, s.auditHome})
	}
	if s.Cards == nil {
		return pages
	}
	return append(pages, []Page{
		// Finance.
		{get, "/finance", roleFinance, s.financeHome},
		{post, "/finance/usage", roleFinance, s.financeUsage},
		{post, "/finance/billing", roleFinance, s.financeBilling},
		{get, "/finance/runs/:run", roleFinance, s.financeRun},
		{get, "/finance/uploads/:run", roleFinance, s.financeUploadProgress},
		{get, "/finance/invoices/:invoice", roleFinance, s.financeInvoice},
		{get, "/finance/invoices/:invoice/pdf", roleFinance, s.financeInvoicePDF},
		{get, "/finance/invoices/:invoice/csv", roleFinance, s.financeInvoiceCSV},
		{get, "/finance/reports", roleFinance, s.financeReport},
	}...)
}

// Mount parses the templates and registers the pages and /static on e.
func (s *Site) Mount(e *echo.Echo) error {
	if err := s.parse(); err != nil {
		return err
	}
	static, _ := fs.Sub(staticFS, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static)))))
	// Middleware per route, not a group: a group would also catch every
	// unknown URL (the API's 404s included).
	csrf := s.csrf()
	for _, p := range s.Pages() {
		e.Add(p.Method, p.Path, s.gate(p.Roles, p.handler), csrf, s.session)
	}
	return nil
}

// csrf protects every form: a random token in an HttpOnly SameSite=Strict
// cookie that each form echoes in its _csrf field.
func (s *Site) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf",
		CookieName:     "gantry_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteStrictMode,
		CookieSecure:   s.SecureCookies,
		ErrorHandler: func(err error, c echo.Context) error {
			return s.errorPage(c, http.StatusForbidden, "フォームの有効期限が切れました。ページを開き直してもう一度送信してください。")
		},
	})
}

const principalKey = "gantry.web.principal"

func principal(c echo.Context) api.Principal {
	p, _ := c.Get(principalKey).(api.Principal)
	return p
}

// session reads the session cookie (a token of api.Tokens).
func (s *Site) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(sessionCookie); err == nil {
			if p, err := s.Tokens.Verify(ck.Value); err == nil {
				c.Set(principalKey, p)
			}
		}
		return next(c)
	}
}

// gate admits the roles; without a session it sends the caller to the right
// login page, with a wrong role it answers 403.
func (s *Site) gate(roles []api.Role, h echo.HandlerFunc) echo.HandlerFunc {
	if len(roles) == 0 {
		return s.handle(h)
	}
	return s.handle(func(c echo.Context) error {
		p := principal(c)
		if p.Role == "" {
			if slices.Contains(roles, api.RoleCustomer) {
				return c.Redirect(http.StatusSeeOther, "/my/login")
			}
			return c.Redirect(http.StatusSeeOther, "/staff/login?next="+c.Request().URL.Path)
		}
		if !slices.Contains(roles, p.Role) {
			return s.errorPage(c, http.StatusForbidden, "このページを開く権限がありません。")
		}
		return h(c)
	})
}

// handle turns an error a page returns into an HTML error page.
func (s *Site) handle(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil || c.Response().Committed {
			return err
		}
		p := api.ProblemFor(err)
		if p.Status >= 500 && p.Status != http.StatusServiceUnavailable && s.Log != nil {
			s.Log.Error("page failed", "route", c.Path(), "err", err.Error())
		}
		msg := message(err)
		if p.Status >= 500 {
			msg = "ただいま処理できません。しばらくしてからもう一度お試しください。"
		}
		return s.errorPage(c, p.Status, msg)
	}
}

// actor puts the session's principal into the command metadata, as
// api.Actor does for the API.
func actor(c echo.Context) context.Context {
	p := principal(c)
	md := commands.MetadataFrom(c.Request().Context())
	md.Actor = es.Actor{Role: string(p.Role), ID: p.Subject, Store: p.Store, Device: "web"}
	if md.Actor.Role == "" {
		md.Actor.Role = "anonymous"
	}
	return commands.WithMetadata(c.Request().Context(), md)
}

// wait makes the next page read its own write.
func (s *Site) wait(ctx context.Context, res es.AppendResult) {
	if s.WaitFor == nil || res.Position == (es.Position{}) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = s.WaitFor(ctx, res.Position)
}

// setSession starts a session for p.
func (s *Site) setSession(c echo.Context, p api.Principal) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.Tokens.Issue(p), Path: "/", HttpOnly: true,
		Secure: s.SecureCookies || c.IsTLS(), SameSite: http.SameSiteLaxMode})
}

func (s *Site) logout(c echo.Context) error {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies || c.IsTLS(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Site) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", nil)
}

// form is a page's form: the values sent and the errors by field name
// (the domain's Field, e.g. "applicant.email").
type form struct {
	Values map[string]string
	Errors map[string]string
	// Alert is an error without a field.
	Alert string
}

func newForm() *form { return &form{Values: map[string]string{}, Errors: map[string]string{}} }

// V returns a value; E the error of a field.
func (f *form) V(name string) string { return f.Values[name] }
func (f *form) E(name string) string { return f.Errors[name] }

// Checked says whether a checkbox was sent.
func (f *form) Checked(name string) bool { return f.Values[name] != "" }

// fail records err on its field (or as the alert); errors that are not
// the caller's to fix (database down, a bug) are returned.
func (f *form) fail(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		if p := api.ProblemFor(err); p.Status >= 500 {
			return err
		}
	}
	msg := message(err)
	if de != nil && de.Field != "" {
		f.Errors[de.Field] = msg
		return nil
	}
	f.Alert = msg
	return nil
}

// read copies the named form fields (trimmed).
func (f *form) read(c echo.Context, names ...string) {
	for _, n := range names {
		f.Values[n] = strings.TrimSpace(c.FormValue(n))
	}
}
