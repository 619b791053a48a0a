package proto

import "testing"

func TestCommandNames(t *testing.T) {
	for c := CmdGet; int(c) < NumCommands; c++ {
		if got := lookupCommand([]byte(c.String())); got != c {
			t.Errorf("lookupCommand(%q) = %v, want %v", c.String(), got, c)
		}
	}
	for _, c := range []Command{0, Command(NumCommands), 255} {
		if c.String() != "unknown" {
			t.Errorf("Command(%d).String() = %q, want unknown", c, c.String())
		}
	}
	if lookupCommand([]byte("GET")) != 0 || lookupCommand([]byte("bget")) != 0 {
		t.Error("lookupCommand accepts a verb memcached's text protocol would not route")
	}
}

func TestCommandKinds(t *testing.T) {
	retrieval := map[Command]bool{CmdGet: true, CmdGets: true, CmdGat: true, CmdGats: true}
	storage := map[Command]bool{CmdSet: true, CmdAdd: true, CmdReplace: true, CmdAppend: true, CmdPrepend: true, CmdCas: true}
	meta := map[Command]bool{CmdMg: true, CmdMs: true, CmdMd: true, CmdMa: true, CmdMe: true, CmdMn: true}
	metaRead := map[Command]bool{CmdMg: true, CmdMe: true}
	for c := Command(0); int(c) <= NumCommands; c++ {
		if c.Retrieval() != retrieval[c] {
			t.Errorf("%v.Retrieval() = %v", c, c.Retrieval())
		}
		if c.Storage() != storage[c] {
			t.Errorf("%v.Storage() = %v", c, c.Storage())
		}
		if c.Meta() != meta[c] || c.MetaRead() != metaRead[c] {
			t.Errorf("%v.Meta() = %v, MetaRead() = %v", c, c.Meta(), c.MetaRead())
		}
	}
}
