package config

import (
	"slices"

	"gopkg.in/yaml.v3"
)

// TLSVersions are the values of a tls section's min_version.
var TLSVersions = []string{"1.2", "1.3"}

// TLS configures TLS from the proxy to a pool's nodes. The files are read
// when the configuration is applied (at start and at every reload), not
// when it is parsed.
type TLS struct {
	// CAFile is a PEM file of the certificate authorities that sign the
	// nodes' certificates; "" trusts the system's.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key shown to
	// nodes that ask for one (memcached's ssl_verify_mode 2); both or
	// neither.
	CertFile, KeyFile string
	// ServerName is the name a node's certificate must carry; "" means the
	// node's host.
	ServerName string
	// MinVersion is the lowest TLS version spoken, one of TLSVersions.
	MinVersion string
}

// ClientTLS makes a pool's listener TLS. Its files are read when the
// configuration is applied (at start and at every reload).
type ClientTLS struct {
	// CertFile and KeyFile are the PEM certificate and key the listener
	// shows clients; both are required.
	CertFile, KeyFile string
	// ClientCAFile, when set, is a PEM file of the certificate authorities
	// whose client certificates are accepted; a client must then show one.
	ClientCAFile string
}

// clientTLS decodes a pool's client_tls section.
func (d *decoder) clientTLS(e entry, pool string) *ClientTLS {
	t := &ClientTLS{}
	entries, _ := d.entries(e.value, pool, "client_tls")
	for _, f := range entries {
		d.mark(f.value, "pools", pool, "client_tls", f.key)
		key := f.key
		f.key = "client_tls." + key
		switch key {
		case "cert_file":
			d.str(f, pool, &t.CertFile)
		case "key_file":
			d.str(f, pool, &t.KeyFile)
		case "client_ca_file":
			d.str(f, pool, &t.ClientCAFile)
		default:
			d.problem(f.knode, pool, "client_tls: unknown key %q (want cert_file, key_file, client_ca_file)", key)
		}
	}
	return t
}

// tls decodes a pool's tls section.
func (d *decoder) tls(e entry, pool string) *TLS {
	t := &TLS{MinVersion: TLSVersions[0]}
	entries, _ := d.entries(e.value, pool, "tls")
	for _, f := range entries {
		d.mark(f.value, "pools", pool, "tls", f.key)
		key := f.key
		f.key = "tls." + key
		switch key {
		case "ca_file":
			d.str(f, pool, &t.CAFile)
		case "cert_file":
			d.str(f, pool, &t.CertFile)
		case "key_file":
			d.str(f, pool, &t.KeyFile)
		case "server_name":
			d.str(f, pool, &t.ServerName)
		case "min_version":
			d.tlsVersion(f, pool, &t.MinVersion)
		default:
			d.problem(f.knode, pool, "tls: unknown key %q (want ca_file, cert_file, key_file, server_name, min_version)", key)
		}
	}
	return t
}

// tlsVersion reads a TLS version: a string or a number such as 1.2.
func (d *decoder) tlsVersion(e entry, pool string, dst *string) {
	n := e.value
	if n.Kind != yaml.ScalarNode || !slices.Contains(TLSVersions, n.Value) {
		d.problem(n, pool, "%s: %s is not one of 1.2, 1.3", e.key, describe(n))
		return
	}
	*dst = n.Value
}

// validateTLS checks a pool's tls and client_tls sections.
func (v *validator) validateTLS(p *Pool) {
	if c := p.ClientTLS; c != nil && (c.CertFile == "" || c.KeyFile == "") {
		v.add(p.Name, []string{"pools", p.Name, "client_tls"}, "client_tls: cert_file and key_file are required")
	}
	t := p.TLS
	if t == nil {
		return
	}
	at := func(key string) []string { return []string{"pools", p.Name, "tls", key} }
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.add(p.Name, at("cert_file"), "tls: cert_file and key_file go together: give both or neither")
	}
	if !slices.Contains(TLSVersions, t.MinVersion) {
		v.add(p.Name, at("min_version"), "tls.min_version: %q is not one of 1.2, 1.3", t.MinVersion)
	}
}
