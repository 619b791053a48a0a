// Package tlsconf turns a pool's TLS settings (to its nodes, and on its
// listener) into crypto/tls configurations, reading their certificate, key
// and CA files. It is called
// at start and at every reload, so a rotated file is used by the
// connections made after the reload.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"hashproxy/internal/config"
)

// versions maps a config.TLSVersions value to crypto/tls's.
var versions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// Client returns the configuration of the proxy's TLS connections to a
// pool's nodes, or nil when t is nil. Its ServerName is t.ServerName,
// possibly "": the dialler fills in each node's host then.
func Client(t *config.TLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	c := &tls.Config{ServerName: t.ServerName, MinVersion: versions[t.MinVersion]}
	if c.MinVersion == 0 {
		return nil, fmt.Errorf("tls: min_version %q is not one of 1.2, 1.3", t.MinVersion)
	}
	if t.CAFile != "" {
		pool, err := caPool("tls: ca_file", t.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate %s, key %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Server returns the configuration of a pool's TLS listener, or nil when
// t is nil: its certificate, and with a client CA file, a client
// certificate required and checked against it.
func Server(t *config.ClientTLS) (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("client_tls: certificate %s, key %s: %w", t.CertFile, t.KeyFile, err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pool, err := caPool("client_tls: client_ca_file", t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// caPool reads a PEM file of CA certificates; key names it in errors.
func caPool(key, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: %w", key, path, errNoCert)
	}
	return pool, nil
}

var errNoCert = errors.New("no PEM certificate in it")
