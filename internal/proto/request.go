package proto

import "strconv"

// Request is one parsed client request. Its byte slices point into the
// Reader's buffers and are valid only until the next Read.
type Request struct {
	// Cmd is the request's verb.
	Cmd Command
	// Keys holds every key of a retrieval in client order, or the one key
	// of a storage, delete, incr, decr or touch command; none for others.
	Keys [][]byte
	// Args holds the tokens after the verb for commands without a key
	// (flush_all, verbosity, stats, version, quit), without a final
	// "noreply"; nil for the others, whose arguments are the typed fields.
	Args [][]byte
	// NoReply is set when the request ended in "noreply": the client wants
	// no answer.
	NoReply bool
	// Data is a storage command's data block followed by "\r\n".
	Data []byte
	// Flags is a storage command's client flags.
	Flags uint32
	// Exptime is the expiration time of a storage command, touch, gat or
	// gats, and the delay of flush_all.
	Exptime int32
	// CAS is the unique value of a cas command.
	CAS uint64
	// Delta is the amount of an incr or decr.
	Delta uint64
}

// reset clears r for reuse, keeping the capacity of its slices.
func (r *Request) reset() {
	*r = Request{Keys: r.Keys[:0], Args: r.Args[:0]}
}

// AppendUpstream appends r as sent to a memcached node: the command line
// normalised to single spaces and "\r\n", without "noreply" (so every
// forwarded request gets exactly one reply, which the proxy drops for
// noreply requests), then the data block for storage commands.
func (r *Request) AppendUpstream(dst []byte) []byte {
	switch {
	case r.Cmd.Retrieval():
		return r.AppendRetrieval(dst, r.Keys)
	case r.Cmd.Storage():
		dst = append(dst, r.Cmd.String()...)
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(r.Flags), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(len(r.Data)-2), 10)
		if r.Cmd == CmdCas {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, r.CAS, 10)
		}
		dst = append(dst, "\r\n"...)
		return append(dst, r.Data...)
	}
	dst = append(dst, r.Cmd.String()...)
	switch r.Cmd {
	case CmdDelete:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
	case CmdIncr, CmdDecr:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, r.Delta, 10)
	case CmdTouch:
		dst = append(dst, ' ')
		dst = append(dst, r.Keys[0]...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
	default:
		for _, a := range r.Args {
			dst = append(dst, ' ')
			dst = append(dst, a...)
		}
	}
	return append(dst, "\r\n"...)
}

// AppendRetrieval appends a retrieval line of r's verb (with r's exptime for
// gat and gats) asking only for keys. r must be a retrieval.
func (r *Request) AppendRetrieval(dst []byte, keys [][]byte) []byte {
	dst = append(dst, r.Cmd.String()...)
	if r.Cmd.touches() {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(r.Exptime), 10)
	}
	for _, k := range keys {
		dst = append(dst, ' ')
		dst = append(dst, k...)
	}
	return append(dst, "\r\n"...)
}
