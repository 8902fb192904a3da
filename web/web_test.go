package web

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/money"
	projcards "github.com/gantry-etc/gantry/projections/cards"
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
