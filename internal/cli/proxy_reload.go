package cli

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/cfst/cfst/internal/filewatch"
	"github.com/cfst/cfst/internal/transport"
)

// credentialSource holds the credentials the proxy sends and reloads them when the .env
// file changes (see filewatch: it sees an atomic rename, how cfst writes .env, as well
// as an edit in place).
type credentialSource struct {
	app    *App
	source string // "environment" or the .env path
	creds  atomic.Pointer[transport.Credentials]
	// envFile notices changes to .env since just before the credentials were last read,
	// so a write in between is read too. Only the goroutine of watch uses it.
	envFile *filewatch.Watch
	// reloads counts successful reloads, for tests.
	reloads atomic.Int64
}

// newCredentialSource reads the credentials of --prefix once.
func (app *App) newCredentialSource() (*credentialSource, error) {
	src := &credentialSource{app: app, envFile: filewatch.New(app.envFilePath())}
	clientID, clientSecret, source, err := app.credentials()
	if err != nil {
		return nil, err
	}
	src.source = source
	src.creds.Store(&transport.Credentials{ClientID: clientID, Secret: clientSecret})
	return src, nil
}

// current returns the credentials to send now.
func (s *credentialSource) current() transport.Credentials { return *s.creds.Load() }

// watch checks the .env file every interval until ctx ends. Credentials from the
// environment never change, so then it returns at once.
func (s *credentialSource) watch(ctx context.Context, interval time.Duration) {
	if s.source == sourceEnvironment || interval <= 0 {
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			s.reloadIfChanged()
		}
	}
}

// reloadIfChanged reads the credentials again when the file changed. A file that cannot
// be read, or lacks the credentials, leaves the old ones in use, with a warning.
func (s *credentialSource) reloadIfChanged() {
	if !s.envFile.Changed() {
		return
	}
	clientID, clientSecret, _, err := s.app.credentials()
	if err != nil {
		s.app.notef("cfst proxy: warning: %s changed but could not be read (%s); still "+
			"using the previous credentials", s.source, s.app.secrets.Scrub(err.Error()))
		return
	}
	previous := s.current()
	if previous.ClientID == clientID && previous.Secret.Equal(clientSecret) {
		return
	}
	s.creds.Store(&transport.Credentials{ClientID: clientID, Secret: clientSecret})
	s.reloads.Add(1)
	s.app.notef("cfst proxy: credentials reloaded from %s (client id %s)", s.source, clientID)
}
