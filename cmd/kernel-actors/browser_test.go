//go:build browser

package main

// The console's browser tests: a real `kernel-actors serve` and headless
// Chromium (Debian's chromium package) driven with chromedp. They run
// with the build tag browser:
//
//	go test -race -tags invariants,browser -run Browser ./cmd/kernel-actors/
//
// and write screenshots to $ARTIFACTS/screenshots, or to
// artifacts/screenshots at the repository's root when ARTIFACTS is unset
// (docs/console.md). Without Chromium they fail, saying how to install
// it: the tag asks for the browser tests, and a skip would pass for them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// browserWait bounds each wait for the page to show something: it polls
// the page's DOM until then (a real browser and a real daemon).
const browserWait = 30 * time.Second

// errNoChromium is findChromium's error when there is no browser.
var errNoChromium = errors.New("the browser tests (tag browser) need Chromium: install Debian's package " +
	"(apt-get install -y chromium, with sudo when not root) or set CHROMIUM to the browser's path")

// findChromium finds the browser: $CHROMIUM, or chromium on the PATH.
func findChromium() (string, error) {
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errNoChromium
}

// chromium is findChromium's browser, or the test's failure: with the
// tag on, a missing browser is an error, never a skip.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Without a browser the tests say what to install (and fail: chromium
// calls t.Fatal with this error).
func TestBrowserMissingChromiumIsNamed(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CHROMIUM", "")
	_, err := findChromium()
	require.ErrorIs(t, err, errNoChromium)
	require.Contains(t, err.Error(), "apt-get install -y chromium")
}

// screenshotDir is where screenshots go, made if missing.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "artifacts", "screenshots")
	if a := os.Getenv("ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browser is one headless Chromium tab on the console.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// newBrowser starts Chromium with a laptop-sized window; it is stopped
// when the test ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.WindowSize(1280, 900),
		// CI runs as root in a container, where Chromium's sandbox cannot
		// start; the page is our own, served on loopback.
		chromedp.NoSandbox,
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shots: screenshotDir(t)}
	b.do(chromedp.EmulateViewport(1280, 900))
	return b
}

// do runs steps, failing the test (with a screenshot) at an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.shot("failed-" + filepath.Base(b.t.Name()))
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "evaluate %s", expr)
	return v
}

// until polls expr in the page until it is truthy, within browserWait;
// what says what the test waited for when it never came.
func (b *browser) until(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.shot("failed-" + filepath.Base(b.t.Name()))
		b.t.Fatalf("the page never showed %s (%s): %v", what, expr, err)
	}
}

// text is an element's text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel))
}

// shot writes a full-page PNG to the screenshot directory.
func (b *browser) shot(name string) {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// set puts value into the field with id (replacing what it held), as
// chromedp.SetValue does, which refuses an empty value.
func (b *browser) set(id, value string) {
	b.t.Helper()
	js, err := json.Marshal(value)
	require.NoError(b.t, err)
	eval[bool](b, fmt.Sprintf(`(document.getElementById(%q).value = %s, true)`, id, js))
}

// consoleCluster is what the browser tests run: echo's ping-pong (the
// workload), a counter (the sends, the revoke) and a worker that panics
// on a negative number (a failed crank, in the vats table).
const consoleCluster = "bootstrap: alice\nvats:\n  alice: {bundle: echo/alice}\n  bob: {bundle: echo/bob}\n" +
	"  counter: {bundle: std/counter}\n  worker: {bundle: supervised/worker}\n"

// launch launches the cluster through the daemon.
func launchConsoleCluster(t *testing.T, d *daemon, dir string) control.LaunchResponse {
	t.Helper()
	cfg := writeFile(t, dir, "console.yaml", consoleCluster)
	code, out, errOut := cli(t, "launch", "--db", d.db, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	var res control.LaunchResponse
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	return res
}

// TestBrowserConsole drives the console in Chromium through what an
// operator does: log in (a wrong token refused, the right one kept in
// memory only), watch the cranks counter move under a workload, send a
// message and read its result, search and revoke an object, restart and
// terminate vats and see their rows change, run the audit, and read it
// all on a phone's screen.
func TestBrowserConsole(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db)
	res := launchConsoleCluster(t, d, dir)
	alice, bob, counter, worker := res.VatIDs["alice"], res.VatIDs["bob"], res.VatIDs["counter"], res.VatIDs["worker"]
	counterRoot := res.Roots["counter"]
	b := newBrowser(t)

	t.Run("login", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Navigate(d.client.Base + "/ui/"))
		b.until("the login form", `!document.getElementById("login").hidden && document.getElementById("console").hidden`)
		b.shot("01-login")
		b.set("login-token", "not-the-token")
		b.do(chromedp.Click(chromedp.ID("login-button")))
		b.until("the wrong token refused", `document.getElementById("login-error").textContent.includes("not this daemon's")`)
		b.do(chromedp.SendKeys(chromedp.ID("login-token"), d.client.Token), chromedp.Click(chromedp.ID("login-button")))
		b.until("the console, live", `!document.getElementById("console").hidden && document.getElementById("conn").textContent === "live"`)
		b.until("the vats table", fmt.Sprintf(`document.querySelectorAll("#vats tbody tr").length === 4 && !!document.querySelector("#vats tr[data-vat='%s']")`, counter))
		// The token is nowhere but in the script's memory.
		require.Empty(t, eval[string](b, `document.getElementById("login-token").value`), "the field was emptied")
		require.NotContains(t, eval[string](b, `location.href`), d.client.Token)
		require.Zero(t, eval[int](b, `localStorage.length + sessionStorage.length`))
		require.Empty(t, eval[string](b, `document.cookie`))
		require.Equal(t, counterRoot, b.text(fmt.Sprintf(`#subclusters li[data-subcluster='%s'] li[data-vat='%s'] a`, res.SubclusterID, counter)), "the subcluster lists counter's root")
		b.shot("02-console")
	})

	t.Run("cranks move under a workload", func(t *testing.T) {
		b.t = t
		start, err := strconv.ParseUint(b.text("#cranks"), 10, 64)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			// The workload: echo's ping-pong, fifty round trips a send,
			// until the test has seen enough.
			defer wg.Done()
			for ctx.Err() == nil {
				_, _ = d.client.Send(ctx, res.Roots["alice"], "run", []any{50})
			}
		}()
		defer func() { cancel(); wg.Wait() }()
		b.until("the counter past its start", fmt.Sprintf(`Number(document.getElementById("cranks").textContent) > %d`, start+50))
		mid, err := strconv.ParseUint(b.text("#cranks"), 10, 64)
		require.NoError(t, err)
		b.until("the counter moving on", fmt.Sprintf(`Number(document.getElementById("cranks").textContent) > %d`, mid+50))
		b.until("a crank rate", `Number(document.getElementById("rate").textContent) > 0`)
		b.until("the sparkline drawn", `document.getElementById("spark-line").getAttribute("points").split(" ").length >= 2`)
		b.until("commit latency measured", `document.getElementById("commit-mean").textContent.endsWith("ms")`)
		b.until("alice's own crank count", fmt.Sprintf(`Number(document.querySelector("#vats tr[data-vat='%s'] .cranks").textContent) > 50`, alice))
		b.shot("03-workload")
	})

	t.Run("send", func(t *testing.T) {
		b.t = t
		// The root link fills the target, as an operator would click it.
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#subclusters li[data-subcluster='%s'] li[data-vat='%s'] a`, res.SubclusterID, counter))))
		require.Equal(t, counterRoot, eval[string](b, `document.getElementById("send-target").value`))
		b.set("send-method", "incr")
		b.set("send-args", "41")
		b.do(chromedp.Click(chromedp.ID("send-button")))
		b.until("the send's result", `document.getElementById("send-result").textContent === "41"`)
		b.set("send-args", "1")
		b.do(chromedp.Click(chromedp.ID("send-button")))
		b.until("the second result", `document.getElementById("send-result").textContent === "42"`)
		b.shot("04-send")
		b.set("send-method", "incr")
		b.set("send-args", `"many"`)
		b.do(chromedp.Click(chromedp.ID("send-button")))
		b.until("the vat's rejection", `document.getElementById("send-result").className.includes("bad") && document.getElementById("send-result").textContent.includes("incr: by")`)

		// A delivery that panics: the crank aborts, the worker is
		// terminated (its policy), and its row says why, with no ref.
		b.set("send-target", res.Roots["worker"])
		b.set("send-method", "work")
		b.set("send-args", "-1")
		b.do(chromedp.Click(chromedp.ID("send-button")))
		b.until("the failed delivery's error", `document.getElementById("send-result").textContent.includes("VAT_FATAL")`)
		row := fmt.Sprintf(`#vats tr[data-vat='%s']`, worker)
		b.until("the worker's failure in its row", fmt.Sprintf(`document.querySelector("%s .err").textContent.includes("VAT_FATAL") && document.querySelector("%s .aborted").textContent === "1" && document.querySelector("%s .state").textContent === "terminated"`, row, row, row))
		require.NotContains(t, b.text(row+" .err"), res.Roots["worker"], "no kref in the failure shown")
		b.shot("04b-failure")
	})

	t.Run("search and revoke", func(t *testing.T) {
		b.t = t
		b.set("search-input", counter)
		b.do(chromedp.Click(chromedp.ID("search-button")))
		row := fmt.Sprintf(`#objects tr[data-kref='%s']`, counterRoot)
		b.until("counter's root found by its owner", fmt.Sprintf(`!!document.querySelector(%q)`, row))
		require.Contains(t, b.text(row), counter)
		b.do(chromedp.Click(chromedp.CSS(row + " button")))
		b.until("the object revoked", fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").includes("(revoked)")`, row))
		b.shot("05-revoke")
		// A send to it is refused now, and the console says so.
		b.set("send-target", counterRoot)
		b.set("send-method", "get")
		b.set("send-args", "")
		b.do(chromedp.Click(chromedp.ID("send-button")))
		b.until("the revoked object's refusal", `document.getElementById("send-result").textContent.includes("REVOKED")`)
	})

	t.Run("restart and terminate", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#vats tr[data-vat='%s'] button`, alice))))
		require.Equal(t, alice, eval[string](b, `document.getElementById("vat-select").value`))
		b.do(chromedp.Click(chromedp.ID("restart-button")))
		b.until("the restart's answer", `document.getElementById("action-result").textContent.includes("incarnation 1")`)
		b.until("alice's new incarnation in the table", fmt.Sprintf(`document.querySelector("#vats tr[data-vat='%s'] .inc").textContent === "1"`, alice))
		b.set("upgrade-bundle", "echo/alice")
		b.do(chromedp.Click(chromedp.ID("upgrade-button")))
		b.until("the upgrade's answer", `document.getElementById("action-result").textContent.includes("upgraded: incarnation 2")`)
		b.until("alice's upgrade in the table", fmt.Sprintf(`document.querySelector("#vats tr[data-vat='%s'] .inc").textContent === "2"`, alice))
		b.until("the upgrade in alice's log", `document.getElementById("vatlog").textContent.includes("upgrade")`)
		b.set("upgrade-bundle", "no/such-bundle")
		b.do(chromedp.Click(chromedp.ID("upgrade-button")))
		b.until("an unknown bundle refused", `document.getElementById("action-result").className.includes("bad")`)

		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#vats tr[data-vat='%s'] button`, bob))))
		b.set("terminate-reason", "retired by the browser test")
		b.do(chromedp.Click(chromedp.ID("terminate-button")))
		b.until("bob terminated in the table", fmt.Sprintf(`document.querySelector("#vats tr[data-vat='%s'] .state").textContent === "terminated"`, bob))
		b.until("the termination in bob's log", `document.getElementById("vatlog").textContent.includes("retired by the browser test")`)
		require.Equal(t, "running", b.text(fmt.Sprintf(`#vats tr[data-vat='%s'] .state`, counter)), "the others run on")
		b.shot("06-terminate")
	})

	t.Run("audit", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Click(chromedp.ID("audit-button")))
		b.until("the auditor's verdict", `document.getElementById("audit-verdict").textContent.startsWith("sound after crank")`)
		b.shot("07-audit")
	})

	t.Run("phone", func(t *testing.T) {
		b.t = t
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		b.until("one column", `getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length === 1`)
		// The page itself does not scroll sideways: wide tables scroll
		// inside their panels.
		require.LessOrEqual(t, eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `window.innerWidth`),
			"nothing wider than the phone's screen")
		b.shot("08-phone")
		b.do(chromedp.EmulateViewport(1280, 900))
	})

	t.Run("log out", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Click(chromedp.ID("logout-button")))
		b.until("the login form again", `!document.getElementById("login").hidden && document.getElementById("console").hidden`)
		b.until("the stream stopped", `document.getElementById("conn").textContent === "signed out"`)
		// The token went with the log-out: a reload shows the login form.
		b.do(chromedp.Reload())
		b.until("the login form after a reload", `!document.getElementById("login").hidden && document.getElementById("console").hidden`)
	})
}
