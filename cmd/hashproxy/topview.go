package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"hashproxy/internal/metrics"
)

// topSegment is a run of text in one style; a line of the top screen is a
// list of them.
type topSegment struct {
	text  string
	style tcell.Style
}

type topLine []topSegment

var (
	styleNormal  = tcell.StyleDefault
	styleTitle   = tcell.StyleDefault.Bold(true)
	styleHeading = tcell.StyleDefault.Bold(true).Reverse(true)
	styleDim     = tcell.StyleDefault.Dim(true)
	styleBar     = tcell.StyleDefault.Foreground(tcell.ColorTeal)
	styleError   = tcell.StyleDefault.Foreground(tcell.ColorRed).Bold(true)
	styleStates  = map[string]tcell.Style{
		metrics.StateUp:      tcell.StyleDefault.Foreground(tcell.ColorGreen),
		metrics.StateDown:    tcell.StyleDefault.Foreground(tcell.ColorRed).Bold(true),
		metrics.StateEjected: tcell.StyleDefault.Foreground(tcell.ColorOlive).Bold(true),
		metrics.StateWarmup:  tcell.StyleDefault.Dim(true).Italic(true),
	}
)

// topEvents is the number of events shown below the pools.
const topEvents = 5

// topLines lays out the top screen for a terminal width columns wide: a
// header, then per pool its nodes with a bar of their requests per second
// and its hot keys, then the latest events.
func topLines(u topUpdate, admin string, width int) []topLine {
	var lines []topLine
	text := func(s string, style tcell.Style) topLine { return topLine{{s, style}} }
	st := u.status
	header := topLine{{"hashproxy top", styleTitle}, {"  " + admin, styleDim}}
	if st != nil {
		header = append(header, topSegment{fmt.Sprintf("  version %s  up %s  %s", st.Version,
			time.Duration(st.UptimeSeconds*float64(time.Second)).Truncate(time.Second), st.Time.Local().Format("15:04:05")), styleNormal})
		if st.IntervalSeconds > 0 {
			header = append(header, topSegment{fmt.Sprintf("  rates over %.1fs", st.IntervalSeconds), styleDim})
		}
	}
	lines = append(lines, header)
	if u.err != nil {
		lines = append(lines, text(u.err.Error(), styleError))
	}
	if st == nil {
		if u.err == nil {
			lines = append(lines, text("connecting…", styleDim))
		}
		return append(lines, text("q quit", styleDim))
	}
	for _, p := range st.Pools {
		lines = append(lines, topLine{})
		lines = append(lines, topPool(p, width)...)
	}
	lines = append(lines, topLine{}, text(pad("EVENTS", width), styleHeading))
	for i, e := range st.Events {
		if i == topEvents {
			break
		}
		what := strings.ReplaceAll(e.Kind, "_", " ")
		if e.Result != "" {
			what += " " + e.Result
		}
		where := strings.Trim(e.Pool+"/"+e.Server, "/")
		line := fmt.Sprintf("%s  %-16s %s  %s", e.Time.Local().Format("15:04:05"), what, where, e.Message)
		style := styleNormal
		if e.Kind == metrics.EventNodeDown || e.Result == metrics.ResultFailure {
			style = styleError
		}
		lines = append(lines, text(clip(line, width), style))
	}
	if len(st.Events) == 0 {
		lines = append(lines, text("none yet", styleDim))
	}
	return append(lines, topLine{}, text("q quit", styleDim))
}

// topPool lays out one pool: its title, its nodes and its hot keys.
func topPool(p metrics.PoolStatus, width int) []topLine {
	title := topLine{
		{"pool " + p.Name, styleTitle},
		{fmt.Sprintf("  %s  %s  %d clients  %s req/s", p.Listen, p.Distribution, p.ClientConnections, num(p.RequestsPerSecond)), styleNormal},
	}
	if p.ReplicationFactor > 1 {
		title = append(title, topSegment{fmt.Sprintf("  %d copies", p.ReplicationFactor), styleNormal})
	}
	if w := p.Warmup; w != nil {
		title = append(title, topSegment{fmt.Sprintf("  warm-up %.0fs left, %s of keys moved", math.Ceil(w.RemainingSeconds), pct(&w.KeysMovedShare)), styleStates[metrics.StateEjected]})
	}
	lines := []topLine{title}
	nameW := len("NODE")
	var maxRPS float64
	for _, n := range p.Nodes {
		nameW = max(nameW, min(len(n.Name), 32))
		maxRPS = max(maxRPS, n.RequestsPerSecond)
	}
	// NODE STATE SHARE REQ/S BAR HIT P50 P99 ERR/S CONNS
	const fixed = 1 + 8 + 7 + 10 + 1 + 7 + 9 + 9 + 8 + 6
	barW := min(max(width-nameW-fixed, 5), 40)
	lines = append(lines, topLine{{pad(fmt.Sprintf("%-*s %-8s%7s%10s %-*s%7s%9s%9s%8s%6s",
		nameW, "NODE", "STATE", "SHARE", "REQ/S", barW, "", "HIT", "P50", "P99", "ERR/S", "CONNS"), width), styleHeading}})
	for _, n := range p.Nodes {
		bar := 0
		if maxRPS > 0 {
			bar = int(float64(barW)*n.RequestsPerSecond/maxRPS + 0.5)
		}
		state, ok := styleStates[n.State]
		if !ok {
			state = styleNormal
		}
		lines = append(lines, topLine{
			{fmt.Sprintf("%-*s ", nameW, clip(n.Name, nameW)), styleNormal},
			{fmt.Sprintf("%-8s", n.State), state},
			{fmt.Sprintf("%7s%10s ", pct(&n.RingShare), num(n.RequestsPerSecond)), styleNormal},
			{strings.Repeat("█", bar), styleBar},
			{strings.Repeat(" ", barW-bar), styleNormal},
			{fmt.Sprintf("%7s%9s%9s%8s%6d", pct(n.HitRatio), secs(n.P50Seconds), secs(n.P99Seconds), num(n.ErrorsPerSecond), n.Connections), styleNormal},
		})
	}
	hk := p.HotKeys
	if hk == nil {
		return append(lines, topLine{{"hot keys off", styleDim}})
	}
	keyW := len("HOT KEY")
	for _, k := range hk.Keys {
		keyW = max(keyW, min(len(k.Key), 48))
	}
	lines = append(lines, topLine{{pad(fmt.Sprintf("%-*s %-*s%10s%8s  last %ds", keyW, "HOT KEY", nameW, "NODE", "REQUESTS", "SHARE", hk.WindowSeconds), width), styleHeading}})
	for _, k := range hk.Keys {
		lines = append(lines, topLine{{clip(fmt.Sprintf("%-*s %-*s%10d%8s", keyW, clip(k.Key, keyW), nameW, k.Server, k.Count, pct(&k.Share)), width), styleNormal}})
	}
	if len(hk.Keys) == 0 {
		lines = append(lines, topLine{{"no requests in the window", styleDim}})
	}
	return lines
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

// secs formats a latency in µs, ms or s.
func secs(v *float64) string {
	switch {
	case v == nil:
		return "-"
	case *v < 0.001:
		return strconv.FormatFloat(*v*1e6, 'f', 0, 64) + "µs"
	case *v < 1:
		return strconv.FormatFloat(*v*1e3, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(*v, 'f', 2, 64) + "s"
	}
}

// clip cuts s to at most w runes.
func clip(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	if w <= 1 {
		return string(r[:max(w, 0)])
	}
	return string(r[:w-1]) + "…"
}

// pad fills s with spaces to w runes, or clips it.
func pad(s string, w int) string {
	if n := len([]rune(s)); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return clip(s, w)
}
