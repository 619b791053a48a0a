package proto

import (
	"strings"
	"testing"
)

// TestFirstHomeOnly pins which writes wait for their first home and what
// the other homes get once it has carried them out.
func TestFirstHomeOnly(t *testing.T) {
	tests := []struct {
		name, in  string
		firstOnly bool
		copy      string // AppendCopy, when firstOnly
		copyCmd   Command
	}{
		{"cas", "cas k 5 60 2 77 noreply\r\nab\r\n", true, "set k 5 60 2\r\nab\r\n", CmdSet},
		{"set", "set k 5 60 2\r\nab\r\n", false, "", 0},
		{"ms with C", "ms k 2 C12 T60 F5 O1 k c q\r\nab\r\n", true, "ms k 2 T60 F5 O1 k c\r\nab\r\n", CmdMs},
		{"ms MS with C", "ms k 2 MS C12\r\nab\r\n", true, "ms k 2 MS\r\nab\r\n", CmdMs},
		{"ms MR with C is copied as a set", "ms k 2 MR C12 T9\r\nab\r\n", true, "ms k 2 T9\r\nab\r\n", CmdMs},
		{"ms MA with C stays an append", "ms k 2 MA C12\r\nab\r\n", true, "ms k 2 MA\r\nab\r\n", CmdMs},
		{"ms MP with C stays a prepend", "ms k 2 C12 MP\r\nab\r\n", true, "ms k 2 MP\r\nab\r\n", CmdMs},
		{"ms ME ignores C", "ms k 2 ME C12\r\nab\r\n", false, "", 0},
		{"ms I with C", "ms k 2 I C12\r\nab\r\n", true, "ms k 2 I\r\nab\r\n", CmdMs},
		{"ms base64 key", "ms aw== 2 b C12\r\nab\r\n", true, "ms aw== 2 b\r\nab\r\n", CmdMs},
		{"ms without C", "ms k 2 T60\r\nab\r\n", false, "", 0},
		{"md with C", "md k C12 I T30 q\r\n", true, "md k I T30\r\n", CmdMd},
		{"md without C", "md k q\r\n", false, "", 0},
		{"ma with C", "ma k C12 N60 J5 D3 v q\r\n", true, "ma k N60 J5 D3 v\r\n", CmdMa},
		{"ma without C", "ma k D3\r\n", false, "", 0},
		{"mg with c", "mg k c v\r\n", false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			if err := NewReader(strings.NewReader(tt.in), Limits{}).Read(&req); err != nil {
				t.Fatal(err)
			}
			if got := req.FirstHomeOnly(); got != tt.firstOnly {
				t.Fatalf("FirstHomeOnly = %v, want %v", got, tt.firstOnly)
			}
			if !tt.firstOnly {
				return
			}
			if got := string(req.AppendCopy(nil)); got != tt.copy {
				t.Errorf("AppendCopy = %q, want %q", got, tt.copy)
			}
			if got := req.CopyCommand(); got != tt.copyCmd {
				t.Errorf("CopyCommand = %v, want %v", got, tt.copyCmd)
			}
			if req.Cmd == CmdCas && !strings.HasPrefix(string(req.AppendUpstream(nil)), "cas ") {
				t.Error("AppendCopy changed the request")
			}
		})
	}
}

// TestApplied pins which replies to a FirstHomeOnly write say the first
// home carried it out.
func TestApplied(t *testing.T) {
	tests := []struct {
		st    Status
		reply string
		want  bool
	}{
		{StatusStored, "STORED\r\n", true},
		{StatusExists, "EXISTS\r\n", false},
		{StatusNotFound, "NOT_FOUND\r\n", false},
		{StatusHD, "HD c5\r\n", true},
		{StatusVA, "VA 1\r\n7\r\n", true},
		{StatusEX, "EX\r\n", false},
		{StatusNF, "NF\r\n", false},
		{StatusNS, "NS\r\n", false},
		{StatusMN, "MN\r\n", true},       // a quiet ma's hidden success
		{StatusMN, "HD\r\nMN\r\n", true}, // a quiet ma that created its counter
		{StatusMN, "VA 1 c3\r\n1\r\nMN\r\n", true},
		{StatusMN, "EX\r\nMN\r\n", false},
		{StatusMN, "NF\r\nMN\r\n", false},
		{StatusClientError, "CLIENT_ERROR bad data chunk\r\n", false},
	}
	for _, tt := range tests {
		if got := Applied(tt.st, []byte(tt.reply)); got != tt.want {
			t.Errorf("Applied(%q) = %v, want %v", tt.reply, got, tt.want)
		}
	}
}
