package allinone

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portcullis.dev/tenants/testcert"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// screenshotsEnv names the folder that receives the page screenshots. A
// relative folder is taken from the repository root. Unset, the test takes
// no screenshots.
const screenshotsEnv = "PORTCULLIS_SCREENSHOTS"

// browserTimeout bounds the whole browser session of one test.
const browserTimeout = 90 * time.Second

func skipWithoutChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser test needs %s (Debian package chromium): %v", chromiumPath, err)
	}
}

// startBrowser starts headless Chromium with a fresh profile and returns a
// tab's context. The flags keep the browser from reaching any host of its
// own accord, so it only loads the pages that the test opens on 127.0.0.1.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	skipWithoutChromium(t)

	options := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocator, cancelAllocator := chromedp.NewExecAllocator(ctx, options...)
	tab, cancelTab := chromedp.NewContext(allocator)
	t.Cleanup(func() {
		cancelTab()
		cancelAllocator()
		cancelTimeout()
	})

	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return tab
}

// browser drives one tab through the portal's pages.
type browser struct {
	t      *testing.T
	tab    context.Context
	portal string
	// shots is the screenshot folder, empty for none.
	shots string
}

// do runs the steps and fails the test with what on an error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.tab, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// open loads a portal page and waits for its heading.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.portal+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// submit fills the inputs, clicks the form's button and waits until the
// next page has loaded.
func (b *browser) submit(what string, fields map[string]string, button string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for selector, value := range fields {
		if value == "" {
			steps = append(steps, chromedp.Clear(chromedp.CSS(selector)))
			continue
		}
		steps = append(steps, chromedp.SetValue(chromedp.CSS(selector), value))
	}
	b.do(what, steps...)

	if _, err := chromedp.RunResponse(b.tab, chromedp.Click(chromedp.CSS(button))); err != nil {
		b.t.Fatalf("browser: %s: submit: %v", what, err)
	}
	b.do(what, chromedp.WaitVisible(chromedp.CSS("h1")))
}

// text returns the text of the first element that matches selector.
func (b *browser) text(selector string) string {
	b.t.Helper()
	text, err := chromedp.Run(b.tab, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser: read %s: %v", selector, err)
	}
	return text
}

// screenshot saves the current page as NAME.LANG.png when screenshots are
// on, after opening it in lang.
func (b *browser) screenshot(name, path string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	for _, lang := range []string{"en", "zh-CN"} {
		separator := "?"
		if strings.Contains(path, "?") {
			separator = "&"
		}
		b.open(path + separator + "lang=" + lang)

		png, err := chromedp.Run(b.tab, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("browser: screenshot %s: %v", name, err)
		}
		file := filepath.Join(b.shots, name+"."+lang+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatalf("save screenshot: %v", err)
		}
	}
	b.open(path + "?lang=en")
}

// screenshotFolder returns the folder of screenshotsEnv, created, or "".
func screenshotFolder(t *testing.T) string {
	t.Helper()
	folder := os.Getenv(screenshotsEnv)
	if folder == "" {
		return ""
	}
	if !filepath.IsAbs(folder) {
		folder = filepath.Join(repositoryRoot(t), folder)
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatalf("create screenshot folder: %v", err)
	}
	return folder
}

// repositoryRoot returns the folder that contains go.work.
func repositoryRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.work above the test's folder")
		}
		dir = parent
	}
}

func TestBrowserSignUpToPluginAtEdge(t *testing.T) {
	skipWithoutChromium(t)
	cfg := testConfig(t.TempDir())
	cfg.Demo = true
	h := startHarnessWith(t, cfg)
	// The browser starts after the harness, so it closes its connections
	// before the portal shuts down.
	tab := startBrowser(t)
	echo := upstream(t, "shop")
	b := &browser{t: t, tab: tab, portal: h.server.PortalURL(), shots: screenshotFolder(t)}

	b.open("/signup?lang=en")
	b.screenshot("signup", "/signup")
	b.submit("sign up", map[string]string{"#email": "ada@example.com", "#name": "Ada", "#password": "correct horse battery"}, `form[action="/signup"] button[type=submit]`)

	b.submit("create tenant", map[string]string{"#slug": "shop", "#name": "Shop"}, `form[action="/ui/tenants"] button[type=submit]`)
	b.open("/ui/tenants/shop/upstreams")
	b.submit("create upstream", map[string]string{"#name": "backend", "#targets": echo + " 1"}, `form[action$="/upstreams"] button[type=submit]`)
	b.open("/ui/tenants/shop/routes")
	b.submit("create route", map[string]string{"#name": "main", "#paths": "/"}, `form[action$="/routes"] button[type=submit]`)
	b.open("/ui/tenants/shop/consumers")
	b.submit("create consumer", map[string]string{"#name": "mobile-app", "#description": "Mobile app", "#tags": "mobile"}, `form[action$="/consumers"] button[type=submit]`)
	b.open("/ui/tenants/shop/domains")
	b.submit("claim a domain", map[string]string{"#hostname": "api.shop.example"}, `form[action$="/domains"] button[type=submit]`)
	cert := testcert.New(t, "api.shop.example")
	b.submit("upload a certificate", map[string]string{`textarea[name=certificate_pem]`: cert.CertificatePEM, `textarea[name=private_key_pem]`: cert.PrivateKeyPEM}, `form[action$="/certificate"] button[type=submit]`)
	if subject := b.text("table.certificate"); !strings.Contains(subject, "CN=api.shop.example") {
		t.Errorf("certificate table = %q, want the subject CN=api.shop.example", subject)
	}
	b.open("/ui/namespaces")
	b.submit("create a namespace", map[string]string{"#name": "ada-tools"}, `form[action="/ui/namespaces"] button[type=submit]`)
	if namespace := b.text("#namespace-ada-tools h2"); namespace != "ada-tools" {
		t.Errorf("namespace heading = %q, want ada-tools", namespace)
	}

	b.open("/ui/marketplace?tenant=shop")
	b.submit("bind response-rewrite", nil, `#plugin-response-rewrite button[type=submit]`)
	b.do("open the binding form", chromedp.WaitVisible(chromedp.CSS(`#binding-form`)))
	bindingForm := b.text("h1")

	b.submit("submit an invalid status", map[string]string{`[name="config.status"]`: "abc"}, `#binding-form button[type=submit]`)
	if alert := b.text(`[role=alert]`); !strings.Contains(alert, "config.status") {
		t.Errorf("binding form error = %q, want it to name config.status", alert)
	}
	b.submit("bind with a response header", map[string]string{`[name="config.status"]`: "", `[name="config.set_headers"]`: "X-Portcullis-UI: bound"}, `#binding-form button[type=submit]`)
	if heading := b.text("h1"); heading == bindingForm {
		t.Fatalf("binding form was not accepted: %s", b.text("main"))
	}

	waitFor(t, "the edge to apply the binding", func() (bool, error) {
		_, port, _ := net.SplitHostPort(h.server.Edge().Addrs().HTTP)
		response, _, err := get(context.Background(), h.h1, "http://shop.localhost:"+port+"/hello", nil)
		if err != nil {
			return false, err
		}
		return response.StatusCode == http.StatusOK && response.Header.Get("X-Portcullis-UI") == "bound", nil
	})

	b.open("/ui/marketplace?tenant=shop")
	b.submit("open the install form", nil, `#plugin-key-auth button[value=install]`)
	b.submit("install key-auth", nil, `form[action$="/installs"] button[type=submit]`)
	if installed := b.text("table"); !strings.Contains(installed, "key-auth") {
		t.Errorf("install table = %q, want key-auth", installed)
	}

	b.open("/ui/tenants/shop")
	if revision := b.text("#latest-revision"); revision == "" || revision == "0" {
		t.Errorf("dashboard latest revision = %q, want the revision of the binding", revision)
	}

	b.screenshot("login", "/login")
	b.screenshot("tenants", "/ui/tenants")
	b.screenshot("dashboard", "/ui/tenants/shop")
	b.screenshot("upstreams", "/ui/tenants/shop/upstreams")
	b.screenshot("routes", "/ui/tenants/shop/routes")
	b.screenshot("consumers", "/ui/tenants/shop/consumers")
	b.screenshot("marketplace", "/ui/marketplace?tenant=shop")
	b.screenshot("binding-form", "/ui/tenants/shop/bindings/new?plugin=response-rewrite&version=1.0.0")
	b.screenshot("bindings", "/ui/tenants/shop/bindings")
	b.screenshot("installs", "/ui/tenants/shop/installs")
	b.screenshot("domains", "/ui/tenants/shop/domains")
	b.screenshot("namespaces", "/ui/namespaces")
	b.screenshot("members", "/ui/tenants/shop/members")
	b.screenshot("settings", "/ui/tenants/shop/settings")
	b.screenshot("audit", "/ui/tenants/shop/audit")
	b.screenshot("propagation", "/ui/propagation")
}
