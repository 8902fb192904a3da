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
	"role": func(r api.Role) string { return roleNames[r] },
	// fld describes one input for the "field" template.
	"fld": func(f *form, name, label, typ string, extra ...string) field {
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
	},
	"regs": func(f *form, r []regulation) map[string]any { return map[string]any{"F": f, "R": r} },
	"fid":  func(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") },
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

// parse builds one template set per page: layout.html plus the page.
func (s *Site) parse() error {
	s.pages = map[string]*template.Template{}
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return err
	}
	for _, n := range names {
		name := strings.TrimSuffix(n.Name(), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+n.Name())
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// render writes the page with status code.
func (s *Site) render(c echo.Context, code int, page string, data any) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	tok, _ := c.Get("csrf").(string)
	var b bytes.Buffer
	if err := t.Execute(&b, view{P: principal(c), CSRF: tok, Data: data}); err != nil {
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
	code := s.Code(cert.CanonicalContent())
	b, err := s.Renderer.Render(cert.Content(), code, s.PublicURL+"/v1/verify/"+code)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+cert.Content().Number+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", b)
}
