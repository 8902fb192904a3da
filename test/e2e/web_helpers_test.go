package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser starts Debian's Chromium headless with a fresh profile; tabs made
// by tab get their own browser context (their own cookies).
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("Chromium is not installed (%v): run scripts/deps.sh (apt-get install chromium)", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "ja-JP"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // start the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// tab opens a tab in a new browser context with a w×h viewport (mobile:
// a phone's touch screen and device scale).
func tab(t *testing.T, b context.Context, w, h int64, mobile bool) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, opts...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return ctx
}

// run runs actions with a time limit, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		failAt(t, ctx, what, err)
	}
}

// get runs one action and returns its value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		failAt(t, ctx, what, err)
	}
	return v
}

func failAt(t *testing.T, ctx context.Context, what string, err error) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url, _ := chromedp.Run(c, chromedp.Location())
	body, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	t.Fatalf("%s: %v (at %s: %.800s)", what, err, url, body)
}

// screenshotDir is where the pages' screenshots go: $GANTRY_SCREENSHOTS, or
// the test's output directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("GANTRY_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// shot saves a full-page PNG of the tab.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	defer func(s time.Time) { t.Logf("shot %s %v", name, time.Since(s)) }(time.Now())
	png := get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeScript is axe-core as scripts/axe.sh installs it.
func axeScript(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", ".local", "axe", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run scripts/axe.sh (make test runs it)", err)
	}
	return string(b)
}

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct{ Target []any } `json:"nodes"`
}

// accessible runs axe-core on the page and fails on a violation of serious
// or critical impact.
func accessible(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	defer func(s time.Time) { t.Logf("axe %s %v", page, time.Since(s)) }(time.Now())
	get(t, ctx, "inject axe-core", chromedp.Evaluate[bool](axe+";true"))
	raw := get(t, ctx, "axe "+page, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe %s: %v: %s", page, err, raw)
	}
	var bad []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			b, _ := json.Marshal(v.Nodes)
			bad = append(bad, v.ID+" ("+v.Impact+"): "+v.Help+" "+string(b))
		}
	}
	if len(bad) > 0 {
		t.Errorf("accessibility of %s:\n%s", page, strings.Join(bad, "\n"))
	}
}

// text reads the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// waitFor polls a JavaScript condition until it holds, across page loads.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	waitWithin(t, ctx, what, cond, 15*time.Second, 50*time.Millisecond)
}

// waitWithin is waitFor with its own limit and polling interval.
func waitWithin(t *testing.T, ctx context.Context, what, cond string, limit, every time.Duration) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(every) {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
	}
	failAt(t, ctx, what, fmt.Errorf("timed out (last error %v)", last))
}

// throttle limits the tab's upload to bytesPerSecond (-1: no limit), as
// DevTools' network throttling does.
func throttle(bytesPerSecond float64) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: bytesPerSecond}}})
		return chromedp.Void{}, err
	}
}
