package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cfst/cfst/emulator"
)

// startWorld starts an emulator on world and stops it when the test ends.
func startWorld(t testing.TB, world *emulator.World) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Config{World: world})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// parseWorld parses a world that the test knows to be valid.
func parseWorld(t testing.TB, text string) *emulator.World {
	t.Helper()
	w, err := emulator.ParseWorld("test.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse world: %v", err)
	}
	return w
}

// sdk returns a cloudflare-go v6 client for srv whose every exchange is checked against
// the OpenAPI schema and for 500s.
func sdk(t testing.TB, srv *emulator.Server, token string, retries int) *cloudflare.Client {
	t.Helper()
	hc := &http.Client{Transport: &checkedTransport{t: t, base: srv.Client().Transport}}
	return cloudflare.NewClient(option.WithBaseURL(srv.URL), option.WithHTTPClient(hc),
		option.WithAPIToken(token), option.WithMaxRetries(retries))
}

// checkedTransport validates every API response against the 2024 OpenAPI schema of the
// Access endpoints, and fails the test on a 500.
type checkedTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (c *checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode == http.StatusInternalServerError {
		c.t.Errorf("%s %s: 500: %s", req.Method, req.URL.Path, body)
	}
	if err := validateResponse(req, resp.StatusCode, resp.Header, body); err != nil {
		c.t.Errorf("%s %s: response does not match the OpenAPI schema: %v\nbody: %s",
			req.Method, req.URL.Path, err, body)
	}
	return resp, nil
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func loadSpec() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile("testdata/openapi-access-2024-08-06.json")
		if err != nil {
			specErr = err
			return
		}
		specRouter, specErr = legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	})
	return specRouter, specErr
}

// validateResponse checks one API answer against the schema. Not checked: paths the schema
// does not have, 5xx (not described), and 429, whose code 971 comes from Cloudflare's
// global rate limiter as seen in the field and is below the Access schema's minimum of 1000.
func validateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	router, err := loadSpec()
	if err != nil {
		return fmt.Errorf("load OpenAPI schema: %w", err)
	}
	_, rest, found := strings.Cut(req.URL.Path, "/client/v4")
	if !found || status == http.StatusTooManyRequests {
		return nil
	}
	specReq := req.Clone(context.Background())
	specReq.URL.Scheme, specReq.URL.Host = "https", "api.cloudflare.com"
	specReq.URL.Path = "/client/v4" + rest
	specReq.Host = "api.cloudflare.com"
	route, params, err := router.FindRoute(specReq)
	if err != nil {
		return nil // not in the schema
	}
	if rest == "/user/tokens/verify" && status >= 400 {
		// The schema's failure body for verify is the allOf of a success (success: true)
		// and a failure (success: false): no body can match it.
		return nil
	}
	return openapi3filter.ValidateResponse(context.Background(),
		&openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: specReq, PathParams: params, Route: route},
			Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{MultiError: true},
		})
}

// wantStatus checks that err is a *cloudflare.Error with the status and first error code.
func wantStatus(t testing.TB, err error, status, code int) {
	t.Helper()
	var cfErr *cloudflare.Error
	if !errors.As(err, &cfErr) {
		t.Fatalf("got error %v, want a *cloudflare.Error with status %d", err, status)
	}
	if cfErr.StatusCode != status {
		t.Errorf("status = %d, want %d (%v)", cfErr.StatusCode, status, err)
	}
	if len(cfErr.Errors) == 0 || int(cfErr.Errors[0].Code) != code {
		t.Errorf("errors = %+v, want code %d", cfErr.Errors, code)
	}
}
