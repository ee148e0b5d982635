package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/dotenv"
)

type emulateOptions struct {
	worldFile  string
	listen     string
	infoFile   string
	caFile     string
	printWorld bool
}

func newEmulateCmd(app *App) *cobra.Command {
	opts := &emulateOptions{}
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run the Cloudflare API and Access edge emulator until interrupted",
		Long: `Run the built-in emulator of the Cloudflare API and the Access edge as a server, until
interrupted (Ctrl-C or SIGTERM).

Once it listens, it prints on stdout the shell lines that point cfst and curl at it:
CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, SSL_CERT_FILE (the
emulator's CA certificate) and CFST_CONNECT_TO (::127.0.0.1:PORT, which sends every
hostname to the emulator; curl takes the same value as --connect-to). With --info-file
it then writes a JSON file, mode 0600, with the keys api_url, account_id, api_token,
edge_addr, ca_file, team_domain and hostnames. The file appears complete or not at all,
so its appearance means the emulator is ready, and it is removed when the emulator stops.

Without --world it serves the default world: seven services under example.com, as in
the operator's how-to. A world file is YAML with the keys account_id, zone_id, team,
strict, token_limit, rate_limit, login_events, api_tokens, service_tokens, groups,
policies, applications and faults. --print-world prints the default world, whose
comments describe each of them: a starting point for a world of your own. Every field is
documented in Go too: go doc github.com/cfst/cfst/emulator.World`,
		Example: `  # Start it in the background, wait until it is ready, point this shell at it
  rm -f emu.json
  cfst emulate --info-file emu.json > emu.env &
  while [ ! -s emu.json ]; do sleep 0.1; done
  . ./emu.env
  cfst create ci && cfst test jaeger.example.com
  kill $!

  # Describe your own setup
  cfst emulate --print-world > world.yaml
  cfst emulate --world world.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulate(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.worldFile, "world", "",
		"world `file` (YAML); default: the built-in world")
	cmd.Flags().StringVar(&opts.listen, "listen", "127.0.0.1:0", "`address` to listen on")
	cmd.Flags().StringVar(&opts.infoFile, "info-file", "",
		"write connection details as JSON to `path` once ready; removed on exit")
	cmd.Flags().StringVar(&opts.caFile, "ca-file", "", "write the CA certificate to `path` "+
		"(default: a file in a temporary directory)")
	cmd.Flags().BoolVar(&opts.printWorld, "print-world", false,
		"print the default world, with comments on its format, and exit")
	return cmd
}

// emulatorInfo is what --info-file holds; its JSON keys are a stable interface.
type emulatorInfo struct {
	APIURL     string   `json:"api_url"`
	AccountID  string   `json:"account_id"`
	APIToken   string   `json:"api_token"`
	EdgeAddr   string   `json:"edge_addr"`
	CAFile     string   `json:"ca_file"`
	TeamDomain string   `json:"team_domain"`
	Hostnames  []string `json:"hostnames"`
}

func runEmulate(ctx context.Context, app *App, opts *emulateOptions) error {
	if opts.printWorld {
		_, err := app.Streams.Out.Write(emulator.DefaultWorldYAML())
		return err
	}
	world, err := loadWorld(opts.worldFile)
	if err != nil {
		return err
	}
	caFile, cleanup, err := caFilePath(opts.caFile)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := emulator.Start(emulator.Config{World: world, Addr: opts.listen, CAFile: caFile})
	if err != nil {
		return withCode(ExitError, err, "choose another address with --listen")
	}
	defer srv.Close()

	info := describeEmulator(srv, caFile, chooseAPIToken(app, srv))
	printEnvironment(app.Streams.Out, info)
	if opts.infoFile != "" {
		if err := writeInfoFile(opts.infoFile, info); err != nil {
			return err
		}
		defer os.Remove(opts.infoFile)
	}
	app.notef("emulator listening on %s (API %s, team %s); Ctrl-C stops it",
		info.EdgeAddr, info.APIURL, info.TeamDomain)
	<-ctx.Done()
	app.notef("emulator: finishing requests in flight")
	return nil
}

func loadWorld(path string) (*emulator.World, error) {
	if path == "" {
		return emulator.DefaultWorld(), nil
	}
	world, err := emulator.LoadWorld(path)
	if err != nil {
		return nil, usageError("fix the world file; 'cfst emulate --print-world' prints the "+
			"default world, whose comments describe the format", "%s", err)
	}
	return world, nil
}

// caFilePath returns the absolute path to write the CA to and a function that removes
// what it created.
func caFilePath(path string) (string, func(), error) {
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", nil, fmt.Errorf("locate the CA file %q: %w", path, err)
		}
		return abs, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "cfst-emulator-")
	if err != nil {
		return "", nil, fmt.Errorf("create a directory for the CA file: %w", err)
	}
	return filepath.Join(dir, "ca.pem"), func() { os.RemoveAll(dir) }, nil
}

// chooseAPIToken picks the API token the environment lines carry: one with every
// permission, else the one lacking the fewest, with a warning that names it.
func chooseAPIToken(app *App, srv *emulator.Server) string {
	tokens := srv.APITokens()
	if len(tokens) == 0 {
		app.notef("warning: the world has no API token: the API answers 401 to every " +
			"request, and CLOUDFLARE_API_TOKEN is not set")
		app.notef("hint: add one under api_tokens, with permissions: [all]")
		return ""
	}
	best := tokens[0]
	if len(best.Missing) > 0 {
		app.notef("warning: no API token of the world has every permission; "+
			"CLOUDFLARE_API_TOKEN is %q, which lacks %s", best.Name,
			strings.Join(best.Missing, ", "))
		app.notef("hint: give an API token permissions: [all] in the world file, or export " +
			"the value of the token a command needs as CLOUDFLARE_API_TOKEN")
	}
	return best.Value
}

func describeEmulator(srv *emulator.Server, caFile, apiToken string) emulatorInfo {
	hostnames := srv.Hostnames()
	if hostnames == nil {
		hostnames = []string{} // an array in JSON, even for a world without applications
	}
	return emulatorInfo{
		APIURL:     srv.URL,
		AccountID:  srv.AccountID(),
		APIToken:   apiToken,
		EdgeAddr:   srv.Addr(),
		CAFile:     caFile,
		TeamDomain: srv.TeamDomain(),
		Hostnames:  hostnames,
	}
}

// printEnvironment prints the shell lines that point cfst and curl at the emulator. A
// missing API token gets no line, so an exported one stays as it is.
func printEnvironment(out io.Writer, info emulatorInfo) {
	for _, kv := range [][2]string{
		{"CLOUDFLARE_BASE_URL", info.APIURL},
		{"CLOUDFLARE_API_TOKEN", info.APIToken},
		{"CLOUDFLARE_ACCOUNT_ID", info.AccountID},
		{"SSL_CERT_FILE", info.CAFile},
		{"CFST_CONNECT_TO", "::" + info.EdgeAddr},
	} {
		if kv[1] != "" {
			fmt.Fprintf(out, "export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
	}
}

// writeInfoFile writes the info as JSON, atomically and mode 0600: it holds the API token.
func writeInfoFile(path string, info emulatorInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if _, err := dotenv.WriteAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write the info file: %w", err)
	}
	return nil
}

// shellQuote quotes s for POSIX shells when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"+
		"0123456789_./:@-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
