package emulator

import (
	"encoding/json"
	"net/http"

	"github.com/cfst/cfst/internal/access"
	"github.com/cfst/cfst/internal/secret"
)

// The headers that carry service-token credentials and application tokens.
const (
	headerClientID     = "Cf-Access-Client-Id"
	headerClientSecret = "Cf-Access-Client-Secret"
	headerJWTAssertion = "Cf-Access-Jwt-Assertion"
	headerAccessToken  = "Cf-Access-Token"
	cookieName         = "CF_Authorization"
)

// The keys of the JSON a single credentials header holds; Cloudflare wants them lowercase.
const (
	jsonClientID     = "cf-access-client-id"
	jsonClientSecret = "cf-access-client-secret"
)

// credentialShape says how well formed the credentials of a request are.
type credentialShape int

const (
	// shapeNone: the request carries no credentials the application reads.
	shapeNone credentialShape = iota
	// shapeComplete: one client id and one secret, both non-empty.
	shapeComplete
	// shapeFaulty: credentials that cannot be checked: only one of id and secret, an empty
	// value, a header sent twice, unreadable JSON, or credentials in two places.
	shapeFaulty
)

// presented is what a request offers as service-token credentials.
type presented struct {
	shape    credentialShape
	clientID string
	secret   secret.Secret
	problem  string // why the shape is faulty
}

// readCredentials extracts the credentials app reads from a request.
//
// An application with read_service_tokens_from_header reads only that header. In default
// mode the standard headers are then ignored; in strict mode they make the request faulty,
// alone or next to the custom header, since strict mode rejects credentials sent in two
// places and the emulator counts the wrong place as one of them.
//
// A header sent twice is faulty in strict mode; in default mode its first value counts.
func readCredentials(h http.Header, app *access.Application, strict bool) presented {
	standard := len(h.Values(headerClientID)) > 0 || len(h.Values(headerClientSecret)) > 0
	custom := app.ReadServiceTokensFromHeader
	switch {
	case custom == "":
		return readStandardHeaders(h, strict)
	case strict && standard:
		return faulty("credentials in the standard headers of an application that reads " +
			custom)
	case len(h.Values(custom)) == 0:
		return presented{}
	case strict && len(h.Values(custom)) > 1:
		return faulty("header " + custom + " sent more than once")
	default:
		return readCredentialsJSON(h.Get(custom))
	}
}

func readStandardHeaders(h http.Header, strict bool) presented {
	ids, secrets := h.Values(headerClientID), h.Values(headerClientSecret)
	switch {
	case len(ids) == 0 && len(secrets) == 0:
		return presented{}
	case strict && (len(ids) > 1 || len(secrets) > 1):
		return faulty("a credentials header sent more than once")
	case len(ids) == 0 || ids[0] == "":
		return faulty("no client id")
	case len(secrets) == 0 || secrets[0] == "":
		return faulty("no client secret")
	}
	return presented{shape: shapeComplete, clientID: ids[0], secret: secret.New(secrets[0])}
}

// readCredentialsJSON reads {"cf-access-client-id":"…","cf-access-client-secret":"…"}.
// Keys must be exactly these, in lowercase, as Cloudflare requires.
func readCredentialsJSON(value string) presented {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &fields) != nil {
		return faulty("credentials header is not a JSON object")
	}
	var clientID, clientSecret string
	if json.Unmarshal(fields[jsonClientID], &clientID) != nil || clientID == "" {
		return faulty("no client id in the credentials header")
	}
	if json.Unmarshal(fields[jsonClientSecret], &clientSecret) != nil || clientSecret == "" {
		return faulty("no client secret in the credentials header")
	}
	return presented{shape: shapeComplete, clientID: clientID, secret: secret.New(clientSecret)}
}

func faulty(problem string) presented {
	return presented{shape: shapeFaulty, problem: problem}
}
