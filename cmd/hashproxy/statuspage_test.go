package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/chromedp/chromedp"

	"hashproxy/internal/metrics"
	"hashproxy/internal/testenv"
)

var statusScreenshot = flag.String("status-screenshot", filepath.Join(os.TempDir(), "hashproxy-status-page.png"),
	"where TestStatusPageInBrowser saves its screenshot of the status page (the phone-sized one goes beside it)")

// pageSnapshot is what the page showed at one moment: the status it drew,
// and the text of each node row's cells by field.
type pageSnapshot struct {
	Status metrics.Status               `json:"status"`
	Rows   map[string]map[string]string `json:"rows"`
	Arcs   int                          `json:"arcs"`
}

// snapshotJS reads the status the page last drew and its node table in one
// go, so the two belong together.
const snapshotJS = `(() => {
  const rows = {};
  for (const tr of document.querySelectorAll("section.pool tr[data-node]")) {
    const f = {};
    for (const td of tr.querySelectorAll("[data-field]")) f[td.dataset.field] = td.textContent;
    rows[tr.dataset.node] = f;
  }
  const arcs = document.querySelectorAll("section.pool .ring svg path, section.pool .ring svg circle").length;
  return {status: window.hashproxyStatus, rows, arcs};
})()`

// TestStatusPageInBrowser loads the status page in a real headless
// browser against a proxy over three memcached nodes under load: the page
// loads with no console error, shows every node with the numbers of the
// /api/status document it drew (which agrees with the proxy's own), redraws
// in place, fits a phone's width, marks a SIGSTOPped node down within a few
// seconds, and shows a reload event. It saves a screenshot (see
// -status-screenshot).
func TestStatusPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := testenv.Need(t, "chromium")
	nodes := []*testenv.Process{testenv.StartMemcached(t), testenv.StartMemcached(t), testenv.StartMemcached(t)}
	sp := startStatusProxy(t, nodes, "")
	startLoad(t, sp.addr)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()

	var (
		consoleMu sync.Mutex
		problems  []string
	)
	messages := chromedp.Console(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				consoleMu.Lock()
				problems = append(problems, m.String())
				consoleMu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+sp.admin+"/")); err != nil {
		t.Fatalf("open the status page: %v", err)
	}
	// waitJS waits until expr is true in the page.
	waitJS := func(what, expr string, limit time.Duration) {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, limit)
		defer wcancel()
		if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	evaluate := func(expr string, v any) {
		t.Helper()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
		if err == nil {
			err = json.Unmarshal(raw, v)
		}
		if err != nil {
			t.Fatalf("evaluate %.40q: %v", expr, err)
		}
	}

	waitJS("three nodes with rates", `window.hashproxyStatus && window.hashproxyStatus.interval_seconds > 0 &&
		window.hashproxyStatus.pools[0].nodes.every(n => n.requests_per_second > 0) &&
		document.querySelectorAll("section.pool tr[data-node]").length === 3`, 20*time.Second)

	var snap pageSnapshot
	evaluate(snapshotJS, &snap)
	api := sp.status(t)
	if len(snap.Status.Pools) != 1 || len(api.Pools) != 1 {
		t.Fatalf("pools: page %d, /api/status %d", len(snap.Status.Pools), len(api.Pools))
	}
	shown, proxy := snap.Status.Pools[0], api.Pools[0]
	if shown.Name != proxy.Name || shown.Listen != proxy.Listen || len(shown.Nodes) != 3 || len(shown.Arcs) != len(proxy.Arcs) {
		t.Errorf("the page drew pool %s %s with %d nodes and %d arcs; /api/status has %s %s, %d nodes, %d arcs",
			shown.Name, shown.Listen, len(shown.Nodes), len(shown.Arcs), proxy.Name, proxy.Listen, len(proxy.Nodes), len(proxy.Arcs))
	}
	if snap.Arcs != len(shown.Arcs) {
		t.Errorf("the ring has %d arcs drawn, the status %d", snap.Arcs, len(shown.Arcs))
	}
	for i, n := range shown.Nodes {
		if n.Name != nodes[i].Addr || n.Address != proxy.Nodes[i].Address || n.RingShare != proxy.Nodes[i].RingShare || n.State != metrics.StateUp {
			t.Errorf("node %d drawn from %+v, /api/status says %+v", i, n, proxy.Nodes[i])
		}
		row, ok := snap.Rows[n.Name]
		if !ok {
			t.Errorf("no row for node %s", n.Name)
			continue
		}
		want := map[string]string{
			"name":                n.Name,
			"state":               n.State,
			"ring_share":          jsPct(&n.RingShare),
			"requests_per_second": jsNum(n.RequestsPerSecond),
			"hit_ratio":           jsPct(n.HitRatio),
			"p50_seconds":         jsSecs(n.P50Seconds),
			"p99_seconds":         jsSecs(n.P99Seconds),
			"errors_per_second":   jsNum(n.ErrorsPerSecond),
			"connections":         strconv.Itoa(n.Connections),
		}
		for field, w := range want {
			if row[field] != w {
				t.Errorf("node %s: %s shows %q, its status %q", n.Name, field, row[field], w)
			}
		}
	}

	// The page redraws in place: the pool's section and its drawn ring
	// survive the next polls.
	evaluate(`(() => { const s = document.querySelector("section.pool"); s.kept = true; s.querySelector("svg path").kept = true;
		window.drawnAt = window.hashproxyStatus.time; return true; })()`, new(bool))
	waitJS("two more polls", `window.hashproxyStatus.time !== window.drawnAt && (window.drawnAt = window.hashproxyStatus.time, window.polls = (window.polls || 0) + 1) >= 2`, 10*time.Second)
	var kept bool
	evaluate(`document.querySelector("section.pool").kept === true && document.querySelector("section.pool svg path").kept === true`, &kept)
	if !kept {
		t.Error("the pool's section or ring was rebuilt between polls: the page would flicker")
	}

	// A node that stops answering is marked down.
	stopped := nodes[1]
	if err := syscall.Kill(stopped.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(stopped.PID(), syscall.SIGCONT) })
	start := time.Now()
	waitJS("the stopped node marked down", fmt.Sprintf(`(document.querySelector('tr[data-node=%q] [data-field=state]') || {}).textContent === "down"`, stopped.Addr), 10*time.Second)
	took := time.Since(start)
	t.Logf("SIGSTOPped node shown down after %v", took.Round(10*time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the stopped node took %v to show down, want a few seconds", took)
	}

	// A reload shows as an event.
	sp.reload(t, sp.config)
	waitJS("a reload event", `[...document.querySelectorAll('#events tr[data-kind=reload] [data-field=kind]')].some(td => td.textContent === "reload success")`, 10*time.Second)
	waitJS("the node-down event", `document.querySelector('#events tr[data-kind=node_down]') !== null`, 5*time.Second)

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, *statusScreenshot, shot)

	// On a phone's width the page fits: nothing wider than the screen but
	// the tables, which scroll on their own.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	waitJS("a poll at phone size", `window.hashproxyStatus.time !== window.drawnAt`, 5*time.Second)
	var fits bool
	evaluate(`document.documentElement.scrollWidth <= window.innerWidth`, &fits)
	if !fits {
		t.Error("the page is wider than a phone's screen")
	}
	phone, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, strings.TrimSuffix(*statusScreenshot, ".png")+"-phone.png", phone)

	// Back up, and no console error all along.
	if err := syscall.Kill(stopped.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitJS("the node back up", fmt.Sprintf(`(document.querySelector('tr[data-node=%q] [data-field=state]') || {}).textContent === "up"`, stopped.Addr), 10*time.Second)

	// A reload that takes a node out with a warm-up window: the node stays
	// listed, in a row of its own style with the time left, and has no arc.
	removed := nodes[2].Addr
	shrunk := strings.Replace(sp.config, "    servers:\n", "    warmup: 30s\n    servers:\n", 1)
	sp.reload(t, strings.Replace(shrunk, "      - "+removed+":1\n", "", 1))
	waitJS("the removed node kept for warm-up", fmt.Sprintf(`(() => {
		const tr = document.querySelector('tr.warmup[data-node=%[1]q]');
		const left = tr && tr.querySelector('[data-field=warmup_remaining_seconds]');
		return !!left && /read-only, \d+s left/.test(left.textContent) &&
			![...document.querySelectorAll('.ring svg title')].some(t => t.textContent === %[1]q);
	})()`, removed), 10*time.Second)
	cancel()
	<-consoleDone
	consoleMu.Lock()
	defer consoleMu.Unlock()
	for _, p := range problems {
		t.Errorf("console: %s", p)
	}
}

// startLoad sends gets through the proxy at addr from a few connections
// until the test ends, at most 2 minutes: steady rates for the page, and
// requests that find a stopped node. Errors are expected while a node is
// stopped and are not reported.
func startLoad(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := memcache.New(addr)
			c.Timeout = time.Second
			for i := 0; ctx.Err() == nil && i < 200_000; i++ {
				key := "page:" + strconv.Itoa((i*7+w)%500)
				if i%3 == 0 {
					key = "page:hot"
				}
				if _, err := c.Get(key); errors.Is(err, memcache.ErrCacheMiss) && i%5 == 0 {
					_ = c.Set(&memcache.Item{Key: key, Value: []byte("v")})
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func saveScreenshot(t *testing.T, path string, png []byte) {
	t.Helper()
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// jsNum, jsPct and jsSecs format as the page's script does.
func jsNum(v float64) string { return jsFixed(v, 1) }

func jsPct(v *float64) string {
	if v == nil {
		return "–"
	}
	return jsFixed(*v*100, 1) + "%"
}

func jsSecs(v *float64) string {
	switch {
	case v == nil:
		return "–"
	case *v < 0.001:
		return strconv.FormatFloat(math.Floor(*v*1e6+0.5), 'f', 0, 64) + " µs"
	case *v < 1:
		return jsFixed(*v*1e3, 2) + " ms"
	default:
		return jsFixed(*v, 2) + " s"
	}
}

// jsFixed is JavaScript's x.toFixed(digits) for x >= 0: the decimal nearest
// the exact value of x, a tie going up (strconv rounds a tie to even).
func jsFixed(x float64, digits int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	b := new(big.Float).SetPrec(256).SetFloat64(x)
	b.Mul(b, new(big.Float).SetPrec(256).SetInt(scale))
	b.Add(b, big.NewFloat(0.5))
	n, _ := b.Int(nil)
	s := n.String()
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	if digits == 0 {
		return s
	}
	return s[:len(s)-digits] + "." + s[len(s)-digits:]
}

func TestJSFixed(t *testing.T) {
	// What (x).toFixed(d) gives in a browser.
	for _, c := range []struct {
		x    float64
		d    int
		want string
	}{{12.25, 1, "12.3"}, {0.25, 1, "0.3"}, {81.25, 1, "81.3"}, {1.005, 2, "1.00"}, {0, 1, "0.0"}, {0.04, 1, "0.0"}, {100, 1, "100.0"}, {3.14159, 2, "3.14"}} {
		if got := jsFixed(c.x, c.d); got != c.want {
			t.Errorf("jsFixed(%v, %d) = %q, want %q", c.x, c.d, got, c.want)
		}
	}
}
