package proxy

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/testenv"
)

// metaVolatile matches the parts of meta replies that differ from server
// to server or from second to second: cas ids (c flag, me's cas=), TTLs
// (t flag, me's exp=) and last-access times (l flag, me's la=).
var metaVolatile = regexp.MustCompile(`(?m)( c| t| l|cas=|exp=|la=)\d+`)

// normaliseMeta hides what metaVolatile matches on meta status lines.
func normaliseMeta(b []byte) string {
	lines := strings.SplitAfter(normalise(b), "\n")
	for i, l := range lines {
		if len(l) > 2 && strings.Contains("VA HD EN NF NS EX ME", l[:2]) {
			lines[i] = metaVolatile.ReplaceAllString(l, "$1<n>")
		}
	}
	return strings.Join(lines, "")
}

// sameMetaReplies is sameReplies for meta commands: each case on a fresh
// proxy and memcached, the same reply bytes but for what normaliseMeta
// hides.
func sameMetaReplies(t *testing.T, proxyAddr, directAddr string, cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exchange(t, proxyAddr, []byte("flush_all\r\n"))
			exchange(t, directAddr, []byte("flush_all\r\n"))
			want := normaliseMeta(exchange(t, directAddr, []byte(tc.req)))
			got := normaliseMeta(exchange(t, proxyAddr, []byte(tc.req)))
			if got != want {
				t.Errorf("request\n%q\nproxy replied\n%q\nmemcached replied\n%q",
					clipString(tc.req, 400), clipString(got, 400), clipString(want, 400))
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestMetaSameAsMemcached sends meta commands, each with the flags it
// takes, to a proxy over three nodes and to one memcached: the replies
// must be the same bytes. The parser's own cases (every refusal, checked
// against memcached) are in internal/proto.
func TestMetaSameAsMemcached(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	direct := testenv.StartMemcached(t)
	big := strings.Repeat("x", 2_000_000)
	cases := []rawCase{
		{"mn", "mn\r\n"},
		{"mg miss and hit", "mg a v\r\nms a 3 F5 T0\r\nabc\r\nmg a v f s k Oxy c t l h\r\nmg a\r\n"},
		{"mg hit without value", "ms a 1\r\nb\r\nmg a f t s\r\n"},
		{"mg vivify and recache", "mg a N30 v c\r\nmg a N30 v\r\nms b 1 T30\r\nb\r\nmg b R60 v\r\nmg b R60 v t\r\n"},
		{"mg touch and no bump", "ms a 1\r\nb\r\nmg a T100 t\r\nmg a u h\r\nmg a h l\r\n"},
		{"mg quiet", "ms a 1\r\nb\r\nmg zz v q\r\nmg a v q k\r\nmg yy q Oz k\r\nmn\r\n"},
		{"mg opaque too long with quiet", "mg zz q O" + strings.Repeat("o", 32) + "\r\nmn\r\n"},
		{"ms modes", "ms a 1 ME\r\nb\r\nms a 1 ME\r\nc\r\nms a 1 MA\r\nd\r\nms a 1 MP\r\ne\r\nms zz 1 MR\r\nf\r\nms a 1 MS c\r\ng\r\nmg a v\r\n"},
		{"ms cas", "ms a 1 C999\r\nb\r\nms a 1\r\nb\r\nms a 1 C1 q\r\nc\r\nms a 1 I C1\r\nd\r\nmg a v\r\n"},
		{"ms flags ttl key opaque cas", "ms a 2 F7 T100 k Oo c\r\nxy\r\nmg a f t v\r\n"},
		{"ms quiet", "ms a 1 q\r\nb\r\nms a 1 q ME\r\nc\r\nms zz 1 q MR\r\nd\r\nmn\r\nmg a v\r\n"},
		{"ms binary value", "ms a 6\r\n\x00\r\n\x01\r\n\r\nmg a v\r\n"},
		{"ms empty value", "ms a 0\r\n\r\nmg a v s\r\n"},
		{"ms too large drops the old value", "ms a 1\r\nb\r\nms a 2000000 q\r\n" + big + "\r\nmg a v\r\n"},
		{"ms too large base64 drops the old value", "ms " + b64("k y") + " 1 b\r\nb\r\nms " + b64("k y") + " 2000000 b MA\r\n" + big + "\r\nmg " + b64("k y") + " b v\r\n"},
		{"ms bad data chunk", "ms a 1 q\r\nbc\r\nmg a v\r\n"},
		{"md", "md a\r\nms a 1\r\nb\r\nmd a k Oo\r\nmd a q\r\nms a 1\r\nb\r\nmd a q\r\nmd a C1\r\nmn\r\n"},
		{"md invalidate", "ms a 1\r\nb\r\nmd a I T30 q\r\nmg a v c\r\nmg a v\r\nmn\r\n"},
		{"ma", "ma a\r\nma a N0 J5 v\r\nma a v t c\r\nma a MD D10 v\r\nma a M+ D3\r\nma a C1\r\nmg a v\r\n"},
		{"ma quiet", "ms a 1\r\n5\r\nma a q\r\nma a q v\r\nma zz q\r\nma zz q N0\r\nma zz q N0 v\r\nma yy q N0 J7 v k Oo\r\nma a v\r\nmn\r\n"},
		{"ma non-numeric with quiet", "ms a 1\r\nx\r\nma a q\r\nmn\r\n"},
		{"me", "me a\r\nms a 1\r\nb\r\nme a\r\nme " + b64("a") + " b\r\n"},
		{"base64 key is the decoded key", "set k 0 0 1\r\n1\r\nmg " + b64("k") + " b v k\r\nms " + b64("\x00\r\n ") + " 1 b\r\n2\r\nmg " + b64("\x00\r\n ") + " b v k\r\n"},
		{"refusals", "mg\r\nme\r\nmg a v v\r\nmg a !\r\nmg a b\r\nmd YQ b\r\nms a\r\nms a x\r\nb\r\nms a 1 MX\r\nb\r\nma a MX\r\nmg " + strings.Repeat("k", 251) + "\r\n"},
		{"meta and classic mixed", "set a 0 0 1\r\nb\r\nmg a v\r\nget a\r\nms a 2 F3 q\r\nxy\r\nget a\r\nmd a q\r\nget a\r\nmn\r\nincr a 1\r\nma a N0 J9 v\r\ndecr a 1\r\n"},
	}
	sameMetaReplies(t, tp.addr, direct.Addr, cases)
}

// TestMetaBase64RoutesByDecodedKey stores keys with classic set and reads
// them with mg and a base64 key: every value comes back only if the proxy
// hashes the decoded key, since most encoded keys hash to another node.
func TestMetaBase64RoutesByDecodedKey(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	r := tp.px.pools[0].routes.Load()
	var sets, gets, want strings.Builder
	moved := 0
	for i := range 30 {
		k := "key" + strconv.Itoa(i)
		if r.ring.Pick([]byte(k)) != r.ring.Pick([]byte(b64(k))) {
			moved++
		}
		sets.WriteString("set " + k + " 0 0 1 noreply\r\n" + strconv.Itoa(i%10) + "\r\n")
		gets.WriteString("mg " + b64(k) + " b v\r\n")
		want.WriteString("VA 1\r\n" + strconv.Itoa(i%10) + "\r\n")
	}
	if moved == 0 {
		t.Fatal("no encoded key hashes to another node than its decoded key: the test proves nothing")
	}
	if got := string(exchange(t, tp.addr, []byte(sets.String()+gets.String()))); got != want.String() {
		t.Errorf("got %q\nwant %q", clipString(got, 300), clipString(want.String(), 300))
	}
}

// quietPipeline is hundreds of quiet ms, mg and md requests on keys that
// span every node, classic commands among them, ended by mn: one write.
func quietPipeline(n int) string {
	var b strings.Builder
	for i := range n {
		k := "qp" + strconv.Itoa(i)
		if i%3 != 0 {
			v := strings.Repeat(strconv.Itoa(i%10), i%7)
			b.WriteString("ms " + k + " " + strconv.Itoa(len(v)) + " q F" + strconv.Itoa(i) + " T0\r\n" + v + "\r\n")
		}
	}
	for i := range n {
		k := "qp" + strconv.Itoa(i)
		b.WriteString("mg " + k + " q v k f O" + strconv.Itoa(i) + "\r\n")
		if i%5 == 0 {
			b.WriteString("md " + k + " q\r\n")
		}
		if i%50 == 0 {
			b.WriteString("get " + k + " qp" + strconv.Itoa(i+1) + "\r\nset c" + k + " 0 0 1\r\n1\r\nincr c" + k + " 2\r\n")
		}
		if i%7 == 0 {
			b.WriteString("ma c" + k + " q N0 J5\r\nma c" + k + " q\r\n")
		}
	}
	for i := range n {
		b.WriteString("mg qp" + strconv.Itoa(i) + " q s k\r\n")
	}
	b.WriteString("mn\r\nget qp1 qp2 qp4\r\nmn\r\n")
	return b.String()
}

// TestMetaQuietPipelineSameAsMemcached sends hundreds of quiet meta requests
// over every node, mixed with classic commands, in one write: the reply
// stream must be what one memcached returns for the same bytes.
func TestMetaQuietPipelineSameAsMemcached(t *testing.T) {
	tp := startProxy(t, 3, namedMD5)
	direct := testenv.StartMemcached(t)
	r := tp.px.pools[0].routes.Load()
	owners := map[int]bool{}
	for i := range 300 {
		owners[r.ring.Pick([]byte("qp"+strconv.Itoa(i)))] = true
	}
	if len(owners) != 3 {
		t.Fatalf("the pipeline's keys span %d of 3 nodes", len(owners))
	}
	// The stream must say something: hits, misses hidden, MN twice.
	if got := string(exchange(t, direct.Addr, []byte(quietPipeline(300)))); strings.Count(got, "VA ") < 150 || strings.Count(got, "MN\r\n") != 2 {
		t.Fatalf("memcached's replies show too little of the pipeline: %q", clipString(got, 300))
	}
	sameMetaReplies(t, tp.addr, direct.Addr, []rawCase{
		{"300 keys", quietPipeline(300)},
		{"300 keys twice", quietPipeline(300) + quietPipeline(300)},
	})
}

// TestMetaReplicaWrites runs meta writes through a pool keeping 2 copies
// of each key: quiet ms, md and ma reach both replica homes and no other
// node, and the client sees exactly what one memcached shows.
func TestMetaReplicaWrites(t *testing.T) {
	tp := startProxy(t, 3, replicated)
	var req, want strings.Builder
	for i := range 20 {
		k := "mcopy:" + strconv.Itoa(i)
		req.WriteString("ms " + k + " 2 q F3\r\nv" + strconv.Itoa(i%10) + "\r\nms " + k + " 1 MA q\r\n+\r\n")
		req.WriteString("ms n" + k + " 1\r\n5\r\nma n" + k + " q\r\nma n" + k + " v\r\n")
		want.WriteString("HD\r\nVA 1\r\n7\r\n")
		if i%2 == 0 {
			req.WriteString("md n" + k + " q\r\nmd n" + k + " q\r\n")
			want.WriteString("NF\r\n")
		}
	}
	req.WriteString("mn\r\n")
	want.WriteString("MN\r\n")
	if got := string(exchange(t, tp.addr, []byte(req.String()))); got != want.String() {
		t.Fatalf("got %q\nwant %q", clipString(got, 300), clipString(want.String(), 300))
	}
	for i := range 20 {
		k := "mcopy:" + strconv.Itoa(i)
		homes := homesOfKey(tp, k, 2)
		for node := range 3 {
			if node == homes[0] || node == homes[1] {
				hasValue(t, tp, node, k, "v"+strconv.Itoa(i%10)+"+", 3)
			} else if got := string(exchange(t, tp.nodes[node].Addr, []byte("mg "+k+" v\r\n"))); got != "EN\r\n" {
				t.Fatalf("%s on node %d, not a home: %q", k, node, got)
			}
		}
	}
}
