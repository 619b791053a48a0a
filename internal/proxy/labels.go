package proxy

import (
	"hashproxy/internal/metrics"
	"hashproxy/internal/proto"
	"hashproxy/internal/upstream"
)

// forwarded reports whether the proxy sends command c to memcached nodes;
// the others it answers itself (see dispatch).
func forwarded(c proto.Command) bool {
	switch c {
	case proto.CmdVersion, proto.CmdVerbosity, proto.CmdStats, proto.CmdQuit, proto.CmdMn:
		return false
	}
	return true
}

// commandIndex maps each forwarded command to its index in
// MetricLabels().Commands, and so in metrics.Server.Requests; -1 for the
// others.
var commandIndex = func() (idx [proto.NumCommands]int) {
	n := 0
	for c := range idx {
		idx[c] = -1
		if c > 0 && forwarded(proto.Command(c)) {
			idx[c] = n
			n++
		}
	}
	return idx
}()

// MetricLabels are the values of the command and kind labels of the
// per-server metrics: every command the proxy forwards, named as proto names
// it, and every kind of upstream failure, named as upstream names it.
func MetricLabels() metrics.Labels {
	var l metrics.Labels
	for c := 1; c < proto.NumCommands; c++ {
		if forwarded(proto.Command(c)) {
			l.Commands = append(l.Commands, proto.Command(c).String())
		}
	}
	for _, k := range upstream.Kinds() {
		l.ErrorKinds = append(l.ErrorKinds, k.String())
	}
	return l
}
