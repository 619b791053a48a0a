// Package statuspage holds the admin listener's status page: one HTML
// document with its style and script inline, no external assets, that
// polls /api/status and draws each pool's ring, nodes, hot keys and the
// recent events.
package statuspage

import _ "embed"

//go:embed index.html
var page string

// HTML returns the status page.
func HTML() []byte { return []byte(page) }
