package dotenv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cfst/cfst/internal/secret"
)

// Keys names the two variables that hold one service token in a .env file.
type Keys struct {
	ClientID     string
	ClientSecret string
}

// DefaultKeys are the names the operator how-to uses, and KeysFor("") returns.
var DefaultKeys = Keys{
	ClientID:     "CF_SERVICE_TOKEN_CLIENT_ID",
	ClientSecret: "CF_SERVICE_TOKEN_CLIENT_SECRET",
}

// ErrNotSet reports that a .env file lacks a token's variables, or has them empty.
var ErrNotSet = errors.New("credentials not set")

// KeysFor returns the variable names for prefix: DefaultKeys for "", and PREFIX_CLIENT_ID
// and PREFIX_CLIENT_SECRET otherwise, upper-cased ("ci" and "CI_" both give CI_CLIENT_ID).
// The prefix must be a shell name: [A-Za-z_][A-Za-z0-9_]*.
func KeysFor(prefix string) (Keys, error) {
	if prefix == "" {
		return DefaultKeys, nil
	}
	if !validName(prefix) {
		return Keys{}, fmt.Errorf("invalid variable prefix %q: "+
			"use letters, digits and underscores, not starting with a digit", prefix)
	}
	upper := strings.ToUpper(prefix)
	if len(upper) > 1 {
		upper = strings.TrimSuffix(upper, "_")
	}
	return Keys{ClientID: upper + "_CLIENT_ID", ClientSecret: upper + "_CLIENT_SECRET"}, nil
}

// Credentials is one service token as stored in a .env file.
type Credentials struct {
	ClientID     string
	ClientSecret secret.Secret
}

// Credentials reads the token stored under keys. If either variable is missing or empty,
// the error wraps ErrNotSet and names the variables, never a value.
func (f *File) Credentials(keys Keys) (Credentials, error) {
	id, _ := f.Get(keys.ClientID)
	clientSecret, _ := f.Get(keys.ClientSecret)
	var missing []string
	if id == "" {
		missing = append(missing, keys.ClientID)
	}
	if clientSecret == "" {
		missing = append(missing, keys.ClientSecret)
	}
	if missing != nil {
		return Credentials{}, fmt.Errorf("%w in %s: %s", ErrNotSet, f.path,
			strings.Join(missing, " and "))
	}
	return Credentials{ClientID: id, ClientSecret: secret.New(clientSecret)}, nil
}

// SetCredentials stores creds under keys with Set. Both parts must be non-empty.
func (f *File) SetCredentials(keys Keys, creds Credentials) error {
	if creds.ClientID == "" || creds.ClientSecret.IsZero() {
		return errors.New("refusing to store an empty client id or secret")
	}
	// Check both first so that a bad secret does not leave a new id beside an old secret.
	if err := checkAssignment(keys.ClientID, creds.ClientID); err != nil {
		return err
	}
	if err := checkAssignment(keys.ClientSecret, creds.ClientSecret.Reveal()); err != nil {
		return err
	}
	f.set(keys.ClientID, creds.ClientID)
	f.set(keys.ClientSecret, creds.ClientSecret.Reveal())
	return nil
}

// DeleteCredentials removes the lines of both variables. It reports whether there were any.
func (f *File) DeleteCredentials(keys Keys) bool {
	deletedID := f.Delete(keys.ClientID)
	deletedSecret := f.Delete(keys.ClientSecret)
	return deletedID || deletedSecret
}
