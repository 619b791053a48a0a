package statuspage

import (
	"regexp"
	"strings"
	"testing"
)

// TestPageIsSelfContained: the page loads nothing from elsewhere (no
// script, style, font or image URL), so it works with no internet, and its
// only data is api/status, asked relative to the page.
func TestPageIsSelfContained(t *testing.T) {
	page := string(HTML())
	if !strings.HasPrefix(page, "<!doctype html>") || !strings.Contains(page, `name="viewport"`) {
		t.Error("not an HTML document for phones and laptops")
	}
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)
	if m := external.FindString(page); m != "" {
		t.Errorf("the page loads an external asset: %q", m)
	}
	fetches := regexp.MustCompile(`fetch\("([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(fetches) != 1 || fetches[0][1] != "api/status" {
		t.Errorf("the page fetches %v, want api/status only", fetches)
	}
}
