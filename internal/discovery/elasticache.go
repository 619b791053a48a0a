package discovery

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"

	"hashproxy/internal/config"
)

// Limits on a configuration endpoint's reply, well above a cluster of the
// largest size ElastiCache allows.
const (
	maxConfigLine = 1024
	maxConfigData = 1 << 20
)

// askElastiCache asks an ElastiCache configuration endpoint for its nodes
// ("config get cluster"): each node is named by its host name and reached
// at its IP address (at its host name when the endpoint gives no address).
func (r *Resolver) askElastiCache(ctx context.Context, l config.Lookup) ([]config.Server, error) {
	addr := net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
	conn, err := r.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &Error{Kind: KindLookup, Lookup: l, Err: err}
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := io.WriteString(conn, "config get cluster\r\n"); err != nil {
		return nil, &Error{Kind: KindLookup, Lookup: l, Err: fmt.Errorf("config get cluster: %w", err)}
	}
	nodes, err := readClusterConfig(bufio.NewReaderSize(conn, maxConfigLine))
	if err != nil {
		kind := KindInvalid
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			kind = KindLookup
		}
		return nil, &Error{Kind: kind, Lookup: l, Err: fmt.Errorf("config get cluster: %w", err)}
	}
	for i := range nodes {
		nodes[i].Weight = l.Weight
	}
	return nodes, nil
}

// readClusterConfig reads a reply to "config get cluster":
//
//	CONFIG cluster <flags> <bytes>\r\n
//	<version>\n
//	<host>|<ip>|<port> <host>|<ip>|<port> ...\n
//	\r\n
//	END\r\n
//
// and returns its nodes, with weight 1, in the order given.
func readClusterConfig(br *bufio.Reader) ([]config.Server, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, errors.New("reply line too long")
	case err != nil:
		return nil, err
	}
	fields := bytes.Fields(line)
	if len(fields) != 4 || string(fields[0]) != "CONFIG" || string(fields[1]) != "cluster" {
		return nil, fmt.Errorf("reply %q is not CONFIG cluster: is this an ElastiCache configuration endpoint?", bytes.TrimSpace(line))
	}
	size, err := strconv.Atoi(string(fields[3]))
	if err != nil || size < 0 || size > maxConfigData {
		return nil, fmt.Errorf("reply %q: bad length", bytes.TrimSpace(line))
	}
	data := make([]byte, size+len("\r\nEND\r\n"))
	if _, err := io.ReadFull(br, data); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(data, []byte("\r\nEND\r\n")) {
		return nil, errors.New("reply does not end with END")
	}
	return parseClusterConfig(data[:size])
}

// parseClusterConfig reads the data of a CONFIG cluster reply: a version
// line, then a line of space-separated "host|ip|port" nodes.
func parseClusterConfig(data []byte) ([]config.Server, error) {
	version, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, errors.New("cluster config: no node line")
	}
	if _, err := strconv.ParseUint(string(bytes.TrimSpace(version)), 10, 64); err != nil {
		return nil, fmt.Errorf("cluster config: version %q is not a number", version)
	}
	nodeLine, _, _ := bytes.Cut(rest, []byte("\n"))
	var out []config.Server
	for _, f := range bytes.Fields(nodeLine) {
		s, err := parseClusterNode(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// parseClusterNode reads one "host|ip|port".
func parseClusterNode(f []byte) (config.Server, error) {
	parts := bytes.Split(f, []byte("|"))
	if len(parts) != 3 || len(parts[0]) == 0 {
		return config.Server{}, fmt.Errorf("cluster config: node %q is not host|ip|port", f)
	}
	name := string(parts[0])
	port, err := strconv.Atoi(string(parts[2]))
	if err != nil || port < 1 || port > 65535 {
		return config.Server{}, fmt.Errorf("cluster config: node %q: bad port", f)
	}
	host := name
	if len(parts[1]) > 0 {
		ip, err := netip.ParseAddr(string(parts[1]))
		if err != nil {
			return config.Server{}, fmt.Errorf("cluster config: node %q: bad IP address", f)
		}
		host = ip.Unmap().String()
	}
	s, err := config.ParseServer(net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return config.Server{}, fmt.Errorf("cluster config: node %q: %w", f, err)
	}
	s.Name = name
	return s, nil
}
