package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
)

// newCurlRequest builds the request of `cfst curl` from -X, -H, -d and --data-binary.
func (app *App) newCurlRequest(ctx context.Context, opts *curlOptions,
	rawURL string) (*http.Request, error) {
	body, hasBody, err := app.curlBody(opts)
	if err != nil {
		return nil, err
	}
	method := curlMethod(opts, hasBody)
	var reader io.Reader
	if hasBody {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reader)
	if err != nil {
		return nil, usageError("check -X and the URL", "%s", err)
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err := app.applyCurlHeaders(req, opts); err != nil {
		return nil, err
	}
	return req, nil
}

func curlMethod(opts *curlOptions, hasBody bool) string {
	switch {
	case opts.Method != "":
		return opts.Method
	case opts.Head:
		return http.MethodHead
	case hasBody:
		return http.MethodPost
	}
	return http.MethodGet
}

// curlBody joins the -d values with "&" as curl does: @FILE reads a file ("-" is stdin)
// and drops its carriage returns and newlines; --data-binary keeps them.
func (app *App) curlBody(opts *curlOptions) ([]byte, bool, error) {
	var parts [][]byte
	for _, value := range opts.Data {
		data, err := app.curlData(value)
		if err != nil {
			return nil, false, err
		}
		parts = append(parts, bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r"), nil),
			[]byte("\n"), nil))
	}
	for _, value := range opts.DataBinary {
		data, err := app.curlData(value)
		if err != nil {
			return nil, false, err
		}
		parts = append(parts, data)
	}
	return bytes.Join(parts, []byte("&")), len(parts) > 0, nil
}

// curlData is value, or the content of the file it names after "@".
func (app *App) curlData(value string) ([]byte, error) {
	name, isFile := strings.CutPrefix(value, "@")
	if !isFile {
		return []byte(value), nil
	}
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(app.Streams.In)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, usageError("check the file after @", "read data: %s", err)
	}
	return data, nil
}

// applyCurlHeaders sets each -H "Name: value"; "Name:" removes a header. As in curl, the
// first -H of a name replaces the header cfst would send (Content-Type after -d) and
// later ones add to it. Credential headers are refused with a warning: the token comes
// only from the settings.
func (app *App) applyCurlHeaders(req *http.Request, opts *curlOptions) error {
	given := map[string]bool{}
	for i, line := range opts.Headers {
		name, value, found := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !found || name == "" || strings.ContainsAny(name, " \t") {
			// Do not quote the value: it may hold a credential.
			return usageError("write -H 'Name: value'", "header %d (-H) is not "+
				"'Name: value'", i+1)
		}
		canonical := http.CanonicalHeaderKey(name)
		switch {
		case strings.HasPrefix(canonical, "Cf-Access-Client-"):
			if !opts.Silent {
				app.notef("warning: ignoring -H %s: cfst adds the token from %s itself",
					canonical, app.envFilePath())
			}
		case canonical == "Host" && value != "":
			req.Host = value
		case value == "":
			req.Header.Del(canonical)
		case given[canonical]:
			req.Header.Add(canonical, value)
		default:
			req.Header.Set(canonical, value)
			given[canonical] = true
		}
	}
	return nil
}
