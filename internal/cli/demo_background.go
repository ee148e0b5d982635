package cli

// Helpers of the demo steps that start a long-running command (proxy, monitor) in the
// background: an App whose stderr the step holds back, so that the command's lines and
// the step's own come out in a fixed order, and a plain HTTP client for the step's own
// requests, which carry no token.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// demoFetchTimeout bounds each request a demo step sends itself.
const demoFetchTimeout = 10 * time.Second

// demoLog collects what a background command writes on stderr. Its command's goroutines
// and the step may use it at once.
type demoLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *demoLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// flushTo writes what was collected since the last flush to w.
func (l *demoLog) flushTo(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.buf.WriteTo(w)
}

// backgroundApp returns an App with the tour's environment, .env and clock, whose
// stderr goes to log.
func (t *demoTour) backgroundApp(log *demoLog) *App {
	return &App{Streams: &Streams{In: strings.NewReader(""), Out: t.out, Err: log},
		Getenv: t.app.Getenv, Now: t.app.Now, EnvFile: t.app.EnvFile, Timeout: t.app.Timeout}
}

// demoGet fetches url without any credential and returns the response's status and body.
func demoGet(ctx context.Context, url string) (status string, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, demoFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", nil, err
	}
	// No proxy from the environment, no redirect followed, no connection kept open.
	resp, err := (&http.Transport{DisableKeepAlives: true}).RoundTrip(req)
	if err != nil {
		return "", nil, fmt.Errorf("demo: fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, fmt.Errorf("demo: read %s: %w", url, err)
	}
	return resp.Status, body, nil
}

// excerpt is the first line of text, cut to about width columns.
func excerpt(text string, width int) string {
	line := firstLine(text)
	if runes := []rune(line); len(runes) > width {
		return string(runes[:width]) + " …"
	}
	return line
}
