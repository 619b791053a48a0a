package proxy

import (
	"bufio"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// pipelineScript returns n random requests over keys that the caller
// checks span every node: sets (a third with noreply), multi-key gets,
// gets and gats, deletes, incr/decr on numbers and on text, touch,
// append/prepend, add/replace, some with noreply, and client errors.
func pipelineScript(seed int64, n int, keys []string) string {
	rnd := rand.New(rand.NewSource(seed))
	key := func() string { return keys[rnd.Intn(len(keys))] }
	nr := func() string {
		if rnd.Intn(3) == 0 {
			return " noreply"
		}
		return ""
	}
	multi := func(verb string) string {
		s := verb
		for range 2 + rnd.Intn(10) {
			s += " " + key()
		}
		return s + "\r\n"
	}
	var b strings.Builder
	for range n {
		switch rnd.Intn(12) {
		case 0, 1:
			v := strconv.Itoa(rnd.Intn(1000))
			if rnd.Intn(4) == 0 {
				v = "text" + v + "\r\n\x00"
			}
			b.WriteString("set " + key() + " " + strconv.Itoa(rnd.Intn(9)) + " 0 " + strconv.Itoa(len(v)) + nr() + "\r\n" + v + "\r\n")
		case 2, 3:
			b.WriteString(multi("get"))
		case 4:
			b.WriteString(multi("gets"))
		case 5:
			b.WriteString(multi("gat 1000"))
		case 6:
			b.WriteString("delete " + key() + nr() + "\r\n")
		case 7:
			verb := []string{"incr ", "decr "}[rnd.Intn(2)]
			b.WriteString(verb + key() + " " + strconv.Itoa(rnd.Intn(50)) + nr() + "\r\n")
		case 8:
			b.WriteString("touch " + key() + " 1000" + nr() + "\r\n")
		case 9:
			verb := []string{"append ", "prepend ", "add ", "replace "}[rnd.Intn(4)]
			b.WriteString(verb + key() + " 0 0 2" + nr() + "\r\nab\r\n")
		case 10:
			b.WriteString("get " + key() + "\r\n")
		default:
			b.WriteString([]string{"bogus\r\n", "get\r\n", "incr x y\r\n", "set a 0 0 1\r\nxyz\r\n", "verbosity 1" + nr() + "\r\n"}[rnd.Intn(5)])
		}
	}
	return b.String()
}

// TestPipelineSameAsMemcached sends hundreds of mixed requests in one write
// (multi-key retrievals over every node, noreply, errors) and requires the
// same replies, in the same order, as a memcached gives.
func TestPipelineSameAsMemcached(t *testing.T) {
	tp := startProxy(t, 3, func(p *config.Pool) { namedMD5(p); p.MaxInflight = 64 })
	direct := testenv.StartMemcached(t)
	r := tp.px.pools[0].routes.Load()
	var keys []string
	owners := map[int]bool{}
	for i := range 30 {
		k := "pipe:" + strconv.Itoa(i)
		keys = append(keys, k)
		owners[r.ring.Pick([]byte(k))] = true
	}
	if len(owners) != 3 {
		t.Fatalf("the keys span %d of 3 nodes", len(owners))
	}
	var cases []rawCase
	for seed := range int64(4) {
		cases = append(cases, rawCase{"seed " + strconv.FormatInt(seed, 10), pipelineScript(seed, 600, keys)})
	}
	sameReplies(t, tp.addr, direct.Addr, cases)
	// The scripts are worth comparing only if they get hits from every node
	// and leave replies out for noreply.
	out := string(exchange(t, tp.addr, []byte(cases[0].req)))
	sc := bufio.NewScanner(strings.NewReader(out))
	hits := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VALUE ") {
			hits++
		}
	}
	if hits < 100 {
		t.Errorf("the first script got only %d hits", hits)
	}
}
