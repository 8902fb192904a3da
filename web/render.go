package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// view is what every template gets.
type view struct {
	P    api.Principal
	CSRF string
	Data any
	// Lang is the page language (ja, en); Switch the link to the page in
	// the other language, SwitchLang its language.
	Lang, Switch, SwitchLang string
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(domain.Tokyo).Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(domain.Tokyo).Format("2006-01-02 15:04")
	},
	"yen":  yen,
	"regs": func(f *form, r []regulation) map[string]any { return map[string]any{"F": f, "R": r} },
	"fid":  func(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") },
}

// langFuncs are the functions that depend on the page language: t (the
// text in that language), role, fld (labels and hints translated).
func langFuncs(t func(string) string) template.FuncMap {
	return template.FuncMap{
		"t":    t,
		"role": func(r api.Role) string { return t(roleNames[r]) },
		"fld": func(f *form, name, label, typ string, extra ...string) field {
			fl := fld(f, name, label, typ, extra...)
			fl.Label, fl.Hint = t(fl.Label), t(fl.Hint)
			return fl
		},
	}
}

// fld describes one input for the "field" template.
func fld(f *form, name, label, typ string, extra ...string) field {
	fl := field{F: f, Name: name, ID: "f-" + strings.ReplaceAll(name, ".", "-"), Label: label, Type: typ}
	for _, e := range extra {
		switch {
		case e == "required":
			fl.Required = true
		case strings.HasPrefix(e, "ac="):
			fl.Autocomplete = e[3:]
		case strings.HasPrefix(e, "hint="):
			fl.Hint = e[5:]
		case strings.HasPrefix(e, "im="):
			fl.InputMode = e[3:]
		}
	}
	return fl
}

// field is one labelled input with its error beside it.
type field struct {
	F                             *form
	Name, ID, Label, Type         string
	Autocomplete, Hint, InputMode string
	Required                      bool
}

var roleNames = map[api.Role]string{
	api.RoleCustomer: "お客様", api.RoleStaff: "店舗スタッフ", api.RoleStoreAdmin: "店舗管理者", api.RoleFinance: "経理",
	api.RoleAuditor: "監査", api.RoleRegulator: "監督官庁", api.RoleOperatorAdmin: "運営管理者",
}

// parse builds one template set per page and language: layout.html plus
// the page.
func (s *Site) parse() error {
	s.pages = map[string]map[string]*template.Template{}
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return err
	}
	for _, lang := range []string{langJA, langEN} {
		s.pages[lang] = map[string]*template.Template{}
		lf := langFuncs(translator(lang))
		for _, n := range names {
			name := strings.TrimSuffix(n.Name(), ".html")
			if name == "layout" || name == "partials" {
				continue
			}
			t, err := template.New("layout.html").Funcs(funcs).Funcs(lf).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+n.Name())
			if err != nil {
				return fmt.Errorf("web: template %s: %w", name, err)
			}
			s.pages[lang][name] = t
		}
	}
	return nil
}

// render writes the page with status code.
func (s *Site) render(c echo.Context, code int, page string, data any) error {
	lang := s.lang(c)
	t, ok := s.pages[lang][page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	tok, _ := c.Get("csrf").(string)
	v := view{P: principal(c), CSRF: tok, Data: data, Lang: lang, SwitchLang: langEN}
	if lang == langEN {
		v.SwitchLang = langJA
	}
	// The same page in the other language (a form's answer page links to
	// the top page: its POST cannot be repeated by a link).
	v.Switch = "/?lang=" + v.SwitchLang
	if r := c.Request(); r.Method == http.MethodGet {
		q := r.URL.Query()
		q.Set("lang", v.SwitchLang)
		v.Switch = r.URL.Path + "?" + q.Encode()
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	return c.HTMLBlob(code, b.Bytes())
}

func (s *Site) errorPage(c echo.Context, code int, msg string) error {
	return s.render(c, code, "error", map[string]any{"Status": code, "Message": msg})
}

// certificatePDF answers a certificate as a PDF download.
func (s *Site) certificatePDF(c echo.Context, cert *certificate.Certificate) error {
	code := s.Codes.Code(cert.CanonicalContent())
	b, err := s.Renderer.Render(cert.Content(), code, s.PublicURL+"/v1/verify/"+code)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+cert.Content().Number+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", b)
}
