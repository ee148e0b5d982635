package cli

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"github.com/cfst/cfst/internal/transport"
)

// credentialSource holds the credentials the proxy sends and reloads them when the .env
// file changes. It polls the file's size, time and inode: cheap, portable, and it sees
// an atomic rename (how cfst writes .env) as well as an edit in place.
type credentialSource struct {
	app    *App
	source string // "environment" or the .env path
	creds  atomic.Pointer[transport.Credentials]
	// seen is the .env file as last read; nil when it did not exist.
	seen os.FileInfo
	// reloads counts successful reloads, for tests.
	reloads atomic.Int64
}

// newCredentialSource reads the credentials of --prefix once.
func (app *App) newCredentialSource() (*credentialSource, error) {
	src := &credentialSource{app: app}
	src.seen, _ = os.Stat(app.envFilePath())
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
	info, err := os.Stat(s.app.envFilePath())
	if err != nil || sameFileState(s.seen, info) {
		return
	}
	s.seen = info
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

// sameFileState reports whether two stats show the same file, unchanged.
func sameFileState(before, after os.FileInfo) bool {
	return before != nil && after != nil && os.SameFile(before, after) &&
		before.Size() == after.Size() && before.ModTime().Equal(after.ModTime())
}
