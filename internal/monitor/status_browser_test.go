package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserTimeout bounds everything a browser test does, from starting Chromium on.
const browserTimeout = time.Minute

// browserView is what the status page shows, read from the DOM by readView.
type browserView struct {
	Viewport    string           `json:"viewport"`
	Refresh     string           `json:"refresh"`
	ScrollWidth int              `json:"scroll_width"`
	InnerWidth  int              `json:"inner_width"`
	Services    []browserService `json:"services"`
}

// browserService is one service row of the status page.
type browserService struct {
	Name  string `json:"name"`
	State string `json:"state"` // data-state of the row
	Badge string `json:"badge"` // text of the state badge
	Class string `json:"class"` // text of the probe class
}

// readView reads the page in one script so that every value comes from the same DOM.
const readView = `(() => {
	const attr = (selector, name) => {
		const el = document.querySelector(selector);
		return el ? el.getAttribute(name) : "";
	};
	const text = (row, selector) => {
		const el = row.querySelector(selector);
		return el ? el.textContent.trim() : "";
	};
	return {
		viewport: attr('meta[name="viewport"]', "content"),
		refresh: attr('meta[http-equiv="refresh"]', "content"),
		scroll_width: document.documentElement.scrollWidth,
		inner_width: window.innerWidth,
		services: [...document.querySelectorAll("article[data-service]")].map(row => ({
			name: row.dataset.service,
			state: row.dataset.state,
			badge: text(row, ".badge"),
			class: text(row, ".class"),
		})),
	};
})()`

// TestStatusPageInBrowser loads the status page in headless Chromium, checks that each
// service shows the state /api/status reports, and saves desktop and phone screenshots
// as test artefacts (kept with go test -artifacts).
func TestStatusPageInBrowser(t *testing.T) {
	browser := newBrowser(t)
	f := newFixture(t, baseConfig)
	f.start()
	f.events.waitFor(t, EventRound, 1)
	if err := f.srv.SetOrigin("flaky", "down"); err != nil {
		t.Fatal(err)
	}
	f.round(2)
	f.events.waitFor(t, EventTokenCheck, 1) // so that the screenshots show the tokens
	// A service added by a reload stays pending until the next round.
	f.mon.Reload(f.setup(strings.Replace(baseConfig, "tokens:\n",
		"  - {url: \"https://ok.example.com/later\", name: later}\ntokens:\n", 1)))

	site := httptest.NewServer(f.mon.Handler())
	t.Cleanup(site.Close)
	want := apiStates(t, site)
	states := map[string]bool{}
	for _, svc := range want {
		states[svc.State] = true
	}
	if !states[StateOK] || !states[StateFailing] || !states[StatePending] {
		t.Fatalf("the services do not cover every state: %+v", want)
	}

	if err := chromedp.Do(browser, chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatalf("load the status page: %v", err)
	}
	view := checkPage(t, browser, want)
	if refresh, err := strconv.Atoi(view.Refresh); err != nil || refresh <= 0 {
		t.Errorf("meta refresh = %q, want a number of seconds", view.Refresh)
	}
	if !strings.Contains(view.Viewport, "width=device-width") {
		t.Errorf("meta viewport = %q, want width=device-width", view.Viewport)
	}
	html, err := chromedp.Run(browser, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{canarySecret, hookCredential, apiToken} {
		if strings.Contains(html, canary) {
			t.Errorf("the rendered page holds %q", canary)
		}
	}
	saveScreenshot(t, browser, "status-desktop.png")

	if err := chromedp.Do(browser, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)),
		chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatalf("load the status page on a phone: %v", err)
	}
	phone := checkPage(t, browser, want)
	if phone.InnerWidth != 390 || phone.ScrollWidth > phone.InnerWidth {
		t.Errorf("on a 390px phone the page is %dpx wide in a %dpx viewport",
			phone.ScrollWidth, phone.InnerWidth)
	}
	saveScreenshot(t, browser, "status-phone.png")
}

// newBrowser starts headless Chromium for the test and returns a context for its tab.
// Without Chromium the test fails on CI, where .ci/run installs it, and is skipped
// elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if _, ci := os.LookupEnv("CI"); ci {
			t.Fatalf("chromium is not on PATH: %v\n"+
				"hint: .ci/run installs Debian's chromium package; run the tests through it", err)
		}
		t.Skipf("chromium is not on PATH, so the status page is not tested in a browser\n"+
			"hint: apt-get install chromium (%v)", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// apiStates returns the services as the monitor's /api/status reports them.
func apiStates(t *testing.T, site *httptest.Server) []ServiceJSON {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(site.URL + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var status Status
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		t.Fatalf("decode /api/status: %v", err)
	}
	return status.Services
}

// checkPage reads the loaded page and checks that it shows every service of want, in
// order, with its state and probe class.
func checkPage(t *testing.T, browser context.Context, want []ServiceJSON) browserView {
	t.Helper()
	view, err := chromedp.Run(browser, chromedp.Evaluate[browserView](readView))
	if err != nil {
		t.Fatalf("read the status page: %v", err)
	}
	if len(view.Services) != len(want) {
		t.Fatalf("the page shows %d services, /api/status %d: %+v", len(view.Services),
			len(want), view.Services)
	}
	for i, svc := range want {
		shown, class := view.Services[i], svc.Class
		if class == "" {
			class = "not probed yet"
		}
		if shown.Name != svc.Name || shown.State != svc.State || shown.Badge != svc.State ||
			shown.Class != class {
			t.Errorf("row %d shows %+v, want %s %s (%s)", i, shown, svc.Name, svc.State, class)
		}
	}
	return view
}

// saveScreenshot saves a full-page PNG of the browser's page in the test's artefact
// directory.
func saveScreenshot(t *testing.T, browser context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if size := img.Bounds().Size(); size.X == 0 || size.Y == 0 {
		t.Fatalf("the screenshot is %v", size)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%v)", path, img.Bounds().Size())
}
