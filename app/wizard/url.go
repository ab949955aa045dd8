package wizard

import (
	"errors"
	"net/url"
	"strings"
)

// parseURL accepts only http(s) URLs, so a man page reference stays text.
func parseURL(s string) (*url.URL, error) {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return nil, errors.New("not a URL")
	}
	return url.Parse(s)
}
