package proxy

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hashproxy/internal/testenv"
)

// TestNothingMixedUpUnderFaults is the mixed-up hunter. Many clients
// pipeline batches of sets, gets and multi-key gets whose values name
// their key, their client and a sequence number, while one node is stopped
// and continued, another is killed and restarted, and a fourth misbehaves
// on every connection (never answers, closes mid-reply, answers garbage).
// Every reply must be one its request can have: the right type, values only
// for keys asked for, in order, each value for its key, from its client,
// and not from the future. No client connection may be closed, and the
// package's TestMain checks that no goroutine outlives the proxy.
func TestNothingMixedUpUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault script: 3 memcached, many clients, kills and stops")
	}
	for _, eject := range []bool{false, true} {
		t.Run("auto_eject_hosts="+strconv.FormatBool(eject), func(t *testing.T) {
			procs, addrs := startNodes(t, 3)
			fake := startFake(t, fakeMisbehaving())
			pc := faultPool(append(addrs, fake.Addr)...)
			pc.AutoEjectHosts = eject
			pc.Timeout = 200 * time.Millisecond
			tp := startPool(t, pc, nil)

			const clients = 16
			var stop atomic.Bool
			var wg sync.WaitGroup
			hunters := make([]*hunter, clients)
			for i := range hunters {
				h := &hunter{id: i, rng: rand.New(rand.NewPCG(uint64(i), 7)), seq: map[string]int{}}
				h.c = dialRaw(t, tp.addr)
				hunters[i] = h
				wg.Add(1)
				go func() {
					defer wg.Done()
					h.run(&stop)
				}()
			}

			faults := []struct {
				at time.Duration
				do func()
			}{
				{300 * time.Millisecond, func() { signal(t, procs[0], syscall.SIGSTOP) }},
				{900 * time.Millisecond, func() { signal(t, procs[0], syscall.SIGCONT) }},
				{1200 * time.Millisecond, func() { procs[1].Stop() }},
				{1700 * time.Millisecond, func() { testenv.RestartMemcached(t, procs[1]) }},
				{2000 * time.Millisecond, func() { signal(t, procs[1], syscall.SIGSTOP) }},
				{2300 * time.Millisecond, func() { signal(t, procs[1], syscall.SIGCONT) }},
				{2500 * time.Millisecond, func() { signal(t, procs[2], syscall.SIGSTOP) }},
				{2800 * time.Millisecond, func() { signal(t, procs[2], syscall.SIGCONT) }},
				{3200 * time.Millisecond, func() {}},
			}
			start := time.Now()
			for _, f := range faults {
				time.Sleep(time.Until(start.Add(f.at)))
				f.do()
			}
			stop.Store(true)
			wg.Wait()

			var total, failed, values int
			for _, h := range hunters {
				if h.err != nil {
					t.Errorf("client %d: %v", h.id, h.err)
					continue
				}
				if line, err := h.c.ask("version\r\n"); err != nil || line != "VERSION test" {
					t.Errorf("client %d: connection not usable after the faults: %q %v", h.id, line, err)
				}
				total += h.requests
				failed += h.failures
				values += h.values
			}
			t.Logf("%d requests, %d values checked, %d failed with SERVER_ERROR", total, values, failed)
			if total < 1000 || failed == 0 || values == 0 {
				t.Errorf("the hunt was too short: %d requests, %d values, %d failures", total, values, failed)
			}
		})
	}
}

// hunter is one client of the hunt.
type hunter struct {
	id  int
	c   *rawClient
	rng *rand.Rand
	seq map[string]int // key → last sequence number sent in a set

	next             int
	requests         int
	failures, values int
	err              error
}

// expect is what a request of a batch may be answered with.
type expect struct {
	set  bool
	keys []string // a get's keys
}

func (h *hunter) key() string {
	return "h" + strconv.Itoa(h.id) + "-" + strconv.Itoa(h.rng.IntN(40))
}

// run sends batches until stop is set or a reply is wrong.
func (h *hunter) run(stop *atomic.Bool) {
	var buf []byte
	for i := 0; !stop.Load() && i < 100_000; i++ {
		buf = buf[:0]
		var batch []expect
		for n := 1 + h.rng.IntN(8); n > 0; n-- {
			switch h.rng.IntN(3) {
			case 0:
				k := h.key()
				h.next++
				h.seq[k] = h.next
				v := k + "/" + strconv.Itoa(h.id) + "/" + strconv.Itoa(h.next)
				buf = append(buf, "set "+k+" 0 0 "+strconv.Itoa(len(v))+"\r\n"+v+"\r\n"...)
				batch = append(batch, expect{set: true})
			default:
				keys := []string{h.key()}
				for m := h.rng.IntN(4); m > 0; m-- {
					keys = append(keys, h.key())
				}
				buf = append(buf, "get "+strings.Join(keys, " ")+"\r\n"...)
				batch = append(batch, expect{keys: keys})
			}
		}
		if _, err := h.c.c.Write(buf); err != nil {
			h.err = fmt.Errorf("write: %w", err)
			return
		}
		for _, e := range batch {
			h.requests++
			if err := h.check(e); err != nil {
				h.err = err
				return
			}
		}
	}
}

// check reads the reply to one request and checks that it may answer it.
func (h *hunter) check(e expect) error {
	line, err := h.c.readLine()
	if err != nil {
		return fmt.Errorf("connection lost: %w", err)
	}
	if strings.HasPrefix(line, "SERVER_ERROR ") {
		h.failures++
		return nil
	}
	if e.set {
		if line != "STORED" {
			return fmt.Errorf("set answered %q", line)
		}
		return nil
	}
	asked := e.keys
	for ; line != "END"; line, err = h.c.readLine() {
		if err != nil {
			return fmt.Errorf("connection lost in a get's reply: %w", err)
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "VALUE" {
			return fmt.Errorf("get %v answered %q", e.keys, line)
		}
		for len(asked) > 0 && asked[0] != f[1] {
			asked = asked[1:]
		}
		if len(asked) == 0 {
			return fmt.Errorf("get %v answered a value for %q", e.keys, f[1])
		}
		asked = asked[1:]
		n, _ := strconv.Atoi(f[3])
		data := make([]byte, n+2)
		if _, err := io.ReadFull(h.c.br, data); err != nil {
			return fmt.Errorf("connection lost in a value: %w", err)
		}
		if err := h.checkValue(f[1], string(data[:n])); err != nil {
			return fmt.Errorf("get %v: %w", e.keys, err)
		}
		h.values++
	}
	return nil
}

// checkValue checks that v was set by this client for key, at or before
// its last set of key.
func (h *hunter) checkValue(key, v string) error {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || parts[0] != key || parts[1] != strconv.Itoa(h.id) {
		return fmt.Errorf("value %q for key %q", v, key)
	}
	seq, err := strconv.Atoi(parts[2])
	if err != nil || seq > h.seq[key] {
		return fmt.Errorf("value %q for key %q, whose last set was %d", v, key, h.seq[key])
	}
	return nil
}
