package cli

// This file is where create and rotate put a new client secret: a slot of the .env file
// (the --prefix variables), checked before the API is called and written the moment the
// secret exists. When the file cannot be written, the secret is saved for recovery.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/dotenv"
)

// gitOptions are the flags that allow writing a .env file git could commit.
type gitOptions struct {
	AddToGitignore bool // --gitignore
	AllowUnignored bool // --allow-unignored
}

func (g *gitOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&g.AddToGitignore, "gitignore", false,
		"add the .env file to .gitignore if git does not ignore it")
	cmd.Flags().BoolVar(&g.AllowUnignored, "allow-unignored", false,
		"write the secret even if git tracks the .env file or does not ignore it")
}

func (g gitOptions) check() error {
	if g.AddToGitignore && g.AllowUnignored {
		return usageError("pass one of them", "--gitignore and --allow-unignored exclude each other")
	}
	return nil
}

// secretSlot is the place in a .env file where one token's credentials go.
type secretSlot struct {
	file *dotenv.File
	keys dotenv.Keys
}

// prepareSecretSlot loads the .env file and checks, before any API call, that a secret can
// be written there: the --prefix is valid, the directory takes new files, and git will
// not commit the file (see checkGit).
func (app *App) prepareSecretSlot(git gitOptions) (*secretSlot, error) {
	keys, err := app.credentialKeys()
	if err != nil {
		return nil, err
	}
	file, err := app.loadEnvFile()
	if err != nil {
		return nil, err
	}
	if err := checkWritableDir(file.Path()); err != nil {
		return nil, err
	}
	if err := app.checkGit(file.Path(), git); err != nil {
		return nil, err
	}
	for _, key := range []string{keys.ClientID, keys.ClientSecret} {
		if app.Getenv(key) != "" {
			app.notef("warning: %s is set in the environment and overrides %s", key, file.Path())
		}
	}
	return &secretSlot{file: file, keys: keys}, nil
}

// checkWritableDir checks that the directory of path (after symlinks) exists and takes a
// new file, by creating and removing one. It cannot foresee every failure (a full disk, a
// name too long for the temporary file); storeSecret handles those.
func checkWritableDir(path string) error {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	dir := filepath.Dir(path)
	probe, err := os.CreateTemp(dir, ".cfst-probe-*")
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return withCode(ExitRefused, fmt.Errorf("cannot write to %q: %w", dir, err),
			"make the directory writable, or point --env-file elsewhere")
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// checkGit refuses a .env file that git tracks or would not ignore, unless the user
// passed --gitignore (which adds it to the .gitignore next to it) or --allow-unignored.
func (app *App) checkGit(path string, opts gitOptions) error {
	status, err := dotenv.CheckGitIgnored(path)
	if err != nil {
		return withCode(ExitRefused, err, "fix the repository, or pass --allow-unignored")
	}
	if status.GitMissing {
		app.notef("warning: git is not installed, so cfst cannot tell whether %s "+
			"would be committed", path)
	}
	switch {
	case status.State == dotenv.Tracked && opts.AllowUnignored:
		app.notef("warning: %s is tracked by git; do not commit it", path)
	case status.State == dotenv.Tracked:
		return withCode(ExitRefused, fmt.Errorf("%s is tracked by git, so a secret "+
			"written there would be committed", path), "untrack it with 'git rm --cached "+
			path+"' and pass --gitignore, or pass --allow-unignored")
	case status.State == dotenv.NotIgnored && opts.AddToGitignore:
		if err := dotenv.AddToGitignore(filepath.Dir(path), filepath.Base(path)); err != nil {
			return withCode(ExitRefused, err, "add it to .gitignore yourself")
		}
		app.notef("added %s to %s", filepath.Base(path),
			filepath.Join(filepath.Dir(path), ".gitignore"))
	case status.State == dotenv.NotIgnored && !opts.AllowUnignored:
		return withCode(ExitRefused, fmt.Errorf("%s is not ignored by git, so 'git add' "+
			"would commit the secret", path),
			"pass --gitignore to add it to .gitignore, or --allow-unignored")
	}
	return nil
}

// storedClientID is the client id the slot holds now, or "".
func (s *secretSlot) storedClientID() string {
	id, _ := s.file.Get(s.keys.ClientID)
	return id
}

// checkFree refuses to replace credentials stored in the slot unless force is set or
// they are those of ownClientID (a rotation replaces its own token's secret).
func (s *secretSlot) checkFree(force bool, ownClientID string) error {
	stored := s.storedClientID()
	_, hasSecret := s.file.Get(s.keys.ClientSecret)
	if force || (stored == "" && !hasSecret) || (stored != "" && stored == ownClientID) {
		return nil
	}
	what := "credentials"
	if stored != "" {
		what = fmt.Sprintf("the credentials of client id %q", stored)
	}
	return withCode(ExitRefused, fmt.Errorf("%s already holds %s in %s", s.file.Path(), what,
		s.keys.ClientID+"/"+s.keys.ClientSecret),
		"pass --prefix NAME to store the token beside them, or --force to replace them")
}

// storeSecret writes the token's credentials into the slot, atomically. If that fails,
// the secret is not lost: see recoverSecret. A looser file mode that the write tightened
// is reported on stderr.
func (app *App) storeSecret(slot *secretSlot, created cloudflare.NewSecret) error {
	creds := dotenv.Credentials{ClientID: created.ClientID, ClientSecret: created.ClientSecret}
	err := slot.file.SetCredentials(slot.keys, creds)
	var report dotenv.WriteReport
	if err == nil {
		report, err = slot.file.Save()
	}
	if err != nil {
		return app.recoverSecret(slot, created, err)
	}
	app.reportWrite(report)
	return nil
}

// reportWrite tells the user when a write tightened the mode of a .env file.
func (app *App) reportWrite(report dotenv.WriteReport) {
	if report.TightenedFrom != 0 {
		app.notef("%s had mode %04o, readable by others; cfst changed it to 0600",
			report.Path, report.TightenedFrom)
	}
}

// recoverSecret saves a secret that could not be written to its .env file: to a 0600 file
// under the user's config directory (cfst/recovered), or, failing that and if stderr is a
// terminal, to the terminal. Its error (exit 10) says where the secret is and what to do.
// Only when neither works is the secret lost; the error (exit 1) then says how to get a
// new one.
func (app *App) recoverSecret(slot *secretSlot, created cloudflare.NewSecret, writeErr error,
) error {
	failure := fmt.Errorf("service token %q has a new secret, but %w", created.Name, writeErr)
	envPath := slot.file.Path()
	content := recoveryContent(slot, created)
	saved, saveErr := app.saveRecovery(created.Name, content)
	if saveErr == nil {
		return withCode(ExitSecretSaved, failure, fmt.Sprintf("the secret is saved in %s: "+
			"move its lines into %s, then delete that file", saved, envPath))
	}
	if app.Streams.ErrTTY {
		app.writeErr(string(content))
		return withCode(ExitSecretSaved, failure, fmt.Sprintf("the secret is shown above and "+
			"nowhere else (%v): copy those lines into %s now", saveErr, envPath))
	}
	return withCode(ExitError, failure, fmt.Sprintf("the secret could not be saved either "+
		"(%v); run 'cfst rotate %s' for a new one once %s is writable", saveErr,
		created.ID, envPath))
}

func (app *App) saveRecovery(name string, content []byte) (string, error) {
	dir, err := app.recoveryDir()
	if err != nil {
		return "", err
	}
	return dotenv.SaveRecovery(dir, name, content)
}

// recoveryContent is a .env fragment with the credentials and a comment saying what to do.
func recoveryContent(slot *secretSlot, created cloudflare.NewSecret) []byte {
	header := fmt.Sprintf("# cfst could not write %q after service token %q (id %s)\n"+
		"# got a new secret. Move the two lines below into that file, then delete this one.\n",
		slot.file.Path(), created.Name, created.ID)
	fragment, err := dotenv.Parse("recovery", []byte(header))
	if err == nil {
		err = fragment.SetCredentials(slot.keys, dotenv.Credentials{
			ClientID: created.ClientID, ClientSecret: created.ClientSecret})
	}
	if err != nil {
		// Cannot happen: the header is comments and the keys were checked. Keep the
		// secret anyway, quoted for bash.
		return []byte(header + slot.keys.ClientID + "=" + created.ClientID + "\n" +
			slot.keys.ClientSecret + "='" +
			strings.ReplaceAll(created.ClientSecret.Reveal(), "'", `'\''`) + "'\n")
	}
	return fragment.Bytes()
}

// restoreSecret puts creds back into the slot, for rotate --verify when the new secret was
// rejected.
func (app *App) restoreSecret(slot *secretSlot, creds dotenv.Credentials) error {
	if err := slot.file.SetCredentials(slot.keys, creds); err != nil {
		return err
	}
	report, err := slot.file.Save()
	if err == nil {
		app.reportWrite(report)
	}
	return err
}
