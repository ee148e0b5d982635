package probe

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Target is one URL to probe.
type Target struct {
	// Name labels the target in output; ParseTarget sets it to the argument as given.
	Name string
	// URL is an absolute http or https URL.
	URL string
	// Method is the HTTP method; empty means GET.
	Method string
	// ExpectStatus is the status that counts as ok; 0 means any 2xx.
	ExpectStatus int
	// Timeout bounds this target's exchange; 0 means the Prober's Timeout.
	Timeout time.Duration
	// Header holds extra request headers. CF-Access-Client-* headers in it are dropped:
	// credentials come only from the Credentials passed to Run.
	Header http.Header
}

// Host returns the hostname of the target's URL, or "" when the URL does not parse.
func (t Target) Host() string {
	u, err := url.Parse(t.URL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// ParseTarget turns a command-line argument into a Target. A bare hostname, with or
// without a port and path, becomes an https URL: "app.example.com" gives
// "https://app.example.com/". Only http and https URLs are accepted, and none that
// carry user information.
func ParseTarget(arg string) (Target, error) {
	arg = strings.TrimSpace(arg)
	u, err := parseTargetURL(arg)
	if err != nil {
		return Target{}, err
	}
	return Target{Name: arg, URL: u.String()}, nil
}

// ParseTargets parses each argument with ParseTarget.
func ParseTargets(args []string) ([]Target, error) {
	targets := make([]Target, 0, len(args))
	for _, arg := range args {
		target, err := ParseTarget(arg)
		if err != nil {
			return nil, err
		}
		targets = append(targets, target)
	}
	return targets, nil
}

func parseTargetURL(arg string) (*url.URL, error) {
	if arg == "" {
		return nil, errors.New("empty target")
	}
	text := arg
	if !strings.Contains(arg, "://") {
		text = "https://" + arg
	}
	u, err := url.Parse(text)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("target %q: %w", arg, err)
	}
	switch {
	case u.User != nil:
		// Do not quote arg: the user information may hold a password.
		return nil, errors.New("a target URL holds user information: remove it")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("target %q: scheme %q is not http or https", arg, u.Scheme)
	case u.Hostname() == "":
		return nil, fmt.Errorf("target %q has no hostname", arg)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}
