package ring

import (
	"bufio"
	"encoding/hex"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHashGolden checks every key hash against values produced by
// twemproxy's own C functions (testdata/hashes.txt): empty, binary and
// high-byte keys included.
func TestHashGolden(t *testing.T) {
	f, err := os.Open("testdata/hashes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var columns []string
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# key "); ok {
			columns = strings.Fields(rest)
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != len(columns)+1 {
			t.Fatalf("hashes.txt: bad line %q", line)
		}
		var key []byte
		if fields[0] != "-" {
			if key, err = hex.DecodeString(fields[0]); err != nil {
				t.Fatalf("hashes.txt: %v", err)
			}
		}
		for i, name := range columns {
			want, err := strconv.ParseUint(fields[i+1], 16, 32)
			if err != nil {
				t.Fatalf("hashes.txt: %v", err)
			}
			fn, err := Hash(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := fn(key); got != uint32(want) {
				t.Errorf("%s(%x) = %08x, want %08x", name, key, got, want)
			}
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows < 90 || !slices.Equal(columns, HashNames()) {
		t.Fatalf("hashes.txt: %d rows, columns %v; want >= 90 rows and every hash", rows, columns)
	}
}

func TestHashNames(t *testing.T) {
	if _, err := Hash(""); err != nil {
		t.Fatalf("default hash: %v", err)
	}
	_, err := Hash("sha1")
	if err == nil || !strings.Contains(err.Error(), "fnv1a_64") {
		t.Fatalf("Hash(sha1) error = %v, want one listing the valid names", err)
	}
	if n := len(HashNames()); n != 12 {
		t.Fatalf("%d hash names, want twemproxy's 12", n)
	}
}
