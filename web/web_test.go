package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api/cardsapi"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
	projruns "github.com/gantry-etc/gantry/projections/runs"
)

func TestSafeNextKeepsLocalPathsOnly(t *testing.T) {
	for in, want := range map[string]string{
		"/store": "/store", "/store/setups/SU-1": "/store/setups/SU-1",
		"//evil.example/x": "", "https://evil.example": "", "store": "", "/a\\b": "", "": "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestYen(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{{int64(0), "¥0"}, {int64(999), "¥999"}, {int64(1000), "¥1,000"}, {money.Yen(1234567), "¥1,234,567"}, {-5150, "-¥5,150"}} {
		if got := yen(tt.in); got != tt.want {
			t.Errorf("yen(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDomainErrorsLandOnTheirFieldInJapanese(t *testing.T) {
	f := newForm()
	if err := f.fail(application.Acceptances{PersonalDataPolicy: true, ETCSystemTerms: true, ProbeDataPolicy: true}.Validate()); err != nil {
		t.Fatal(err)
	}
	if got := f.E("acceptances.dsrc_terms"); !strings.Contains(got, "同意") {
		t.Fatalf("error beside the DSRC regulation = %q (errors %v)", got, f.Errors)
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	if got := daysLeft(now, now.Add(60*24*time.Hour)); got != 60 {
		t.Errorf("daysLeft = %d, want 60", got)
	}
	if got := daysLeft(now, now.Add(-time.Hour)); got != 0 {
		t.Errorf("past deadline: daysLeft = %d, want 0", got)
	}
}

func TestTotalsChartHasABarPerMonthScaledToTheLargest(t *testing.T) {
	svg := string(totalsChart([]projcards.MonthTotal{{Period: "2026-04", Total: 5000}, {Period: "2026-05", Total: 10000}}))
	if n := strings.Count(svg, "<rect"); n != 2 {
		t.Fatalf("%d bars, want 2: %s", n, svg)
	}
	if !strings.Contains(svg, `height="180"`) || !strings.Contains(svg, `height="90"`) {
		t.Fatalf("bars not scaled to the largest total (180 and 90 px): %s", svg)
	}
	if totalsChart(nil) != "" {
		t.Fatal("a chart without months")
	}
}

func TestLanguageChoice(t *testing.T) {
	s := &Site{}
	e := echo.New()
	for _, tt := range []struct {
		name, query, cookie, accept, want string
	}{
		{"default", "", "", "", "ja"},
		{"browser in Japanese", "", "", "ja-JP,ja;q=0.9,en;q=0.8", "ja"},
		{"browser in English: still Japanese", "", "", "en-US,en;q=0.9", "ja"},
		{"browser in French", "", "", "fr-FR", "ja"},
		{"cookie", "", "en", "ja-JP", "en"},
		{"chosen on the link", "lang=en", "ja", "ja-JP", "en"},
		{"unknown choice ignored", "lang=xx", "", "", "ja"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/apply?"+tt.query, nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			req.Header.Set("Accept-Language", tt.accept)
			rec := httptest.NewRecorder()
			if got := s.lang(e.NewContext(req, rec)); got != tt.want {
				t.Fatalf("lang = %q, want %q", got, tt.want)
			}
			if tt.query == "lang=en" && !strings.Contains(rec.Header().Get("Set-Cookie"), langCookie+"=en") {
				t.Fatalf("the choice is not kept: %q", rec.Header().Get("Set-Cookie"))
			}
		})
	}
}

func TestEnglishTranslatesLabelsAndMessages(t *testing.T) {
	en, ja := translator(langEN), translator(langJA)
	if got := en("車載器の台数"); got != "Number of on-board units" {
		t.Errorf("label = %q", got)
	}
	if got := en(messages["regulation_not_accepted"]); !strings.HasPrefix(got, "You cannot apply") {
		t.Errorf("message = %q", got)
	}
	if got := en("翻訳のない文"); got != "翻訳のない文" {
		t.Errorf("untranslated text = %q", got)
	}
	if got := ja("車載器の台数"); got != "車載器の台数" {
		t.Errorf("Japanese = %q", got)
	}
	// Every message code with an English text has a Japanese one.
	for code := range messagesEN {
		if _, ok := messages[code]; !ok {
			t.Errorf("messagesEN has %q, messages does not", code)
		}
	}
}

func TestProgressText(t *testing.T) {
	p, rate, left := progressText(25, 100, 5*time.Second)
	if p != 25 || rate != "5.0" || left != "15s" {
		t.Fatalf("25 of 100 in 5 s: %d%% %s/s, %s left", p, rate, left)
	}
	if p, rate, left := progressText(0, 0, time.Second); p != 0 || rate != "" || left != "" {
		t.Fatalf("nothing done: %d %q %q", p, rate, left)
	}
	ended := time.Now()
	if s := progressOf(projruns.Run{Done: 1, Total: 4, Elapsed: 2 * time.Second}); s.Ended || s.Done != 1 || s.Total != 4 || s.Left != "6s" {
		t.Fatalf("running: %+v", s)
	}
	if s := progressOf(projruns.Run{Done: 4, Total: 4, Elapsed: 2 * time.Second, Ended: &ended}); !s.Ended || s.Percent != 100 || s.Stalled {
		t.Fatalf("ended: %+v", s)
	}
	if s := progressOf(projruns.Run{Done: 2, Total: 4, Elapsed: time.Minute, Stalled: true}); !s.Ended || !s.Stalled {
		t.Fatalf("stalled: %+v", s)
	}
	if id := newRunID(); !cardsapi.ValidRunID(id) {
		t.Fatalf("run ID %q not valid", id)
	}
}
