// Package proto implements the memcached text protocol as a proxy needs it:
// a request parser that answers malformed requests the way memcached does,
// a parser for the replies of an upstream memcached, and writers for the
// replies the proxy composes itself.
//
// The request parser reads through a fixed-size buffer and hands out
// sub-slices of it, and the reply parser appends each reply to the
// caller's slice, so parsing allocates nothing in steady state.
package proto

// Command identifies a request's verb.
type Command uint8

// The commands hashproxy understands. The zero Command is not a command.
const (
	CmdGet Command = iota + 1
	CmdGets
	CmdGat
	CmdGats
	CmdSet
	CmdAdd
	CmdReplace
	CmdAppend
	CmdPrepend
	CmdCas
	CmdDelete
	CmdIncr
	CmdDecr
	CmdTouch
	CmdFlushAll
	CmdMg
	CmdMs
	CmdMd
	CmdMa
	CmdMe
	CmdMn
	CmdVersion
	CmdVerbosity
	CmdStats
	CmdQuit
)

// NumCommands is one more than the largest Command, for arrays indexed by
// Command.
const NumCommands = int(CmdQuit) + 1

var commandNames = [NumCommands]string{
	CmdGet:       "get",
	CmdGets:      "gets",
	CmdGat:       "gat",
	CmdGats:      "gats",
	CmdSet:       "set",
	CmdAdd:       "add",
	CmdReplace:   "replace",
	CmdAppend:    "append",
	CmdPrepend:   "prepend",
	CmdCas:       "cas",
	CmdDelete:    "delete",
	CmdIncr:      "incr",
	CmdDecr:      "decr",
	CmdTouch:     "touch",
	CmdFlushAll:  "flush_all",
	CmdMg:        "mg",
	CmdMs:        "ms",
	CmdMd:        "md",
	CmdMa:        "ma",
	CmdMe:        "me",
	CmdMn:        "mn",
	CmdVersion:   "version",
	CmdVerbosity: "verbosity",
	CmdStats:     "stats",
	CmdQuit:      "quit",
}

// String returns the command's verb as sent on the wire, e.g. "flush_all",
// or "unknown" for a value that is not a command.
func (c Command) String() string {
	if int(c) < NumCommands && c != 0 {
		return commandNames[c]
	}
	return "unknown"
}

// Retrieval reports whether c is get, gets, gat or gats.
func (c Command) Retrieval() bool { return c >= CmdGet && c <= CmdGats }

// Storage reports whether c is set, add, replace, append, prepend or cas.
func (c Command) Storage() bool { return c >= CmdSet && c <= CmdCas }

// Meta reports whether c is a meta command: mg, ms, md, ma, me or mn.
func (c Command) Meta() bool { return c >= CmdMg && c <= CmdMn }

// MetaRead reports whether c is a meta command that reads an item (mg, me)
// rather than changes one (ms, md, ma; mn touches none). An mg with the N,
// T or R flag may also create a stub item or change its TTL, as gat does.
func (c Command) MetaRead() bool { return c == CmdMg || c == CmdMe }

// touches reports whether c is gat or gats, whose first argument is an
// expiration time.
func (c Command) touches() bool { return c == CmdGat || c == CmdGats }

// lookupCommand returns the command named by verb, or 0 when there is none.
// Verbs are case-sensitive, as in memcached.
func lookupCommand(verb []byte) Command {
	switch string(verb) {
	case "get":
		return CmdGet
	case "gets":
		return CmdGets
	case "gat":
		return CmdGat
	case "gats":
		return CmdGats
	case "set":
		return CmdSet
	case "add":
		return CmdAdd
	case "replace":
		return CmdReplace
	case "append":
		return CmdAppend
	case "prepend":
		return CmdPrepend
	case "cas":
		return CmdCas
	case "delete":
		return CmdDelete
	case "incr":
		return CmdIncr
	case "decr":
		return CmdDecr
	case "touch":
		return CmdTouch
	case "flush_all":
		return CmdFlushAll
	case "mg":
		return CmdMg
	case "ms":
		return CmdMs
	case "md":
		return CmdMd
	case "ma":
		return CmdMa
	case "me":
		return CmdMe
	case "mn":
		return CmdMn
	case "version":
		return CmdVersion
	case "verbosity":
		return CmdVerbosity
	case "stats":
		return CmdStats
	case "quit":
		return CmdQuit
	}
	return 0
}
