// Package tlsconf turns a pool's TLS settings into a crypto/tls
// configuration, reading its certificate, key and CA files. It is called
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
		pool, err := caPool(t.CAFile)
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

// caPool reads a PEM file of CA certificates.
func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: ca_file %s: %w", path, errNoCert)
	}
	return pool, nil
}

var errNoCert = errors.New("no PEM certificate in it")
