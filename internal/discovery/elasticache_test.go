package discovery

import (
	"bufio"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"hashproxy/internal/config"
	"hashproxy/internal/testenv"
)

// reply frames data as a CONFIG cluster reply.
func reply(data string) string {
	return "CONFIG cluster 0 " + strconv.Itoa(len(data)) + "\r\n" + data + "\r\nEND\r\n"
}

func TestReadClusterConfig(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []config.Server
		err  string // substring of the error; "" for success
	}{
		{
			name: "two nodes",
			in:   reply("12\nmc.0001.use1.cache.amazonaws.com|10.82.235.120|11211 mc.0002.use1.cache.amazonaws.com|10.80.249.27|11212\n"),
			want: []config.Server{
				srv("10.82.235.120", 11211, 1, "mc.0001.use1.cache.amazonaws.com"),
				srv("10.80.249.27", 11212, 1, "mc.0002.use1.cache.amazonaws.com"),
			},
		},
		{
			name: "no address: reached by host name",
			in:   reply("1\nmc-a.test||11211\n"),
			want: []config.Server{{Addr: "mc-a.test:11211", Host: "mc-a.test", Port: 11211, Weight: 1, Name: "mc-a.test"}},
		},
		{name: "no node", in: reply("3\n\n"), want: nil},
		{name: "plain memcached", in: "ERROR\r\n", err: "is not CONFIG cluster"},
		{name: "bad length", in: "CONFIG cluster 0 x\r\n", err: "bad length"},
		{name: "huge length", in: "CONFIG cluster 0 99999999\r\n", err: "bad length"},
		{name: "no END", in: "CONFIG cluster 0 3\r\n1\n\n\r\nEN\r\n\r\n", err: "does not end with END"},
		{name: "short", in: "CONFIG cluster 0 30\r\n1\n", err: "unexpected EOF"},
		{name: "bad version", in: reply("v1\nh|10.0.0.1|1\n"), err: `version "v1" is not a number`},
		{name: "bad node", in: reply("1\nh|10.0.0.1\n"), err: `node "h|10.0.0.1" is not host|ip|port`},
		{name: "bad port", in: reply("1\nh|10.0.0.1|0\n"), err: "bad port"},
		{name: "bad ip", in: reply("1\nh|10.0.0.300|1\n"), err: "bad IP address"},
		{name: "bad host", in: reply("1\nh/x||1\n"), err: "neither an IP address nor a host name"},
		{name: "long line", in: strings.Repeat("x", 2*maxConfigLine), err: "reply line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClusterConfig(bufio.NewReaderSize(strings.NewReader(tt.in), maxConfigLine))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err == "" && !reflect.DeepEqual(got, tt.want):
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %+v, %v; want error with %q", got, err, tt.err)
			}
		})
	}
}

func FuzzReadClusterConfig(f *testing.F) {
	for _, s := range []string{
		reply("12\nmc.0001|10.82.235.120|11211 mc.0002|10.80.249.27|11212\n"),
		reply("1\nmc-a.test||11211\n"), reply("3\n\n"), "ERROR\r\n", "CONFIG cluster 0 -1\r\n",
		reply("1\nh|::1|1 h|::1|1\n"), reply("1"), "CONFIG cluster 0 3\r\n1\n\n\r\nEND\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nodes, err := readClusterConfig(bufio.NewReaderSize(strings.NewReader(string(data)), maxConfigLine))
		if err != nil {
			return
		}
		for _, s := range nodes {
			// Every node read must be one the configuration accepts.
			back, err := config.ParseServer(s.Addr + ":1 " + s.Name)
			if err != nil || back.Addr != s.Addr || back.Name != s.Name || s.Port < 1 || s.Port > 65535 {
				t.Fatalf("node %+v does not read back: %+v, %v", s, back, err)
			}
		}
	})
}

// TestResolveElastiCache asks a configuration endpoint whose answer
// changes, and one that is plain memcached.
func TestResolveElastiCache(t *testing.T) {
	e := testenv.StartConfigEndpoint(t)
	p := config.DefaultPool()
	l, err := config.ParseServer(e.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p.Lookups = []config.Lookup{{Kind: config.LookupElastiCache, Host: l.Host, Port: l.Port, Weight: 2}}
	r := NewResolver("")

	_, err = r.Resolve(context.Background(), p)
	if kindOf(err) != KindEmpty {
		t.Errorf("no node listed: got %v, want an error of kind %s", err, KindEmpty)
	}
	e.Set("b.cache.test|127.0.0.2|11212", "a.cache.test|127.0.0.1|11211")
	got, err := r.Resolve(context.Background(), p)
	want := []config.Server{srv("127.0.0.1", 11211, 2, "a.cache.test"), srv("127.0.0.2", 11212, 2, "b.cache.test")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v\nwant %+v", got, err, want)
	}

	mc := testenv.StartMemcached(t)
	p.Lookups[0].Port = mc.Port
	_, err = r.Resolve(context.Background(), p)
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindInvalid || !strings.Contains(err.Error(), "is this an ElastiCache configuration endpoint?") {
		t.Errorf("plain memcached: got %v, want an error of kind %s", err, KindInvalid)
	}

	p.Lookups[0].Port = testenv.FreePort(t)
	if _, err = r.Resolve(context.Background(), p); kindOf(err) != KindLookup {
		t.Errorf("nothing listening: got %v, want an error of kind %s", err, KindLookup)
	}
}
