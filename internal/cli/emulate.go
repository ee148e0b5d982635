package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cfst/cfst/emulator"
)

type emulateOptions struct {
	worldFile string
	listen    string
	infoFile  string
	caFile    string
}

func newEmulateCmd(app *App) *cobra.Command {
	opts := &emulateOptions{}
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Run the Cloudflare API and Access edge emulator until interrupted",
		Long: `Run the built-in emulator of the Cloudflare API and the Access edge as a server.

It prints the environment that points cfst and curl at it (stdout) and, with --info-file,
writes the same as JSON. Without --world it serves the default world: seven services under
example.com, as in the operator's how-to.`,
		Example: `  eval "$(cfst emulate --info-file emu.json &)"; cfst test pihole.example.com`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulate(cmd, app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.worldFile, "world", "", "world `file` (YAML); default: the built-in world")
	cmd.Flags().StringVar(&opts.listen, "listen", "127.0.0.1:0", "`address` to listen on")
	cmd.Flags().StringVar(&opts.infoFile, "info-file", "", "write connection details as JSON to `path`")
	cmd.Flags().StringVar(&opts.caFile, "ca-file", "", "write the CA certificate to `path` "+
		"(default: a file in a temporary directory)")
	return cmd
}

// emulatorInfo is what `cfst emulate` tells its users; the JSON keys are a stable interface.
type emulatorInfo struct {
	APIURL     string   `json:"api_url"`
	AccountID  string   `json:"account_id"`
	APIToken   string   `json:"api_token"`
	EdgeAddr   string   `json:"edge_addr"`
	CAFile     string   `json:"ca_file"`
	TeamDomain string   `json:"team_domain"`
	Hostnames  []string `json:"hostnames"`
	BaseURLEnv string   `json:"CLOUDFLARE_BASE_URL"`
	TokenEnv   string   `json:"CLOUDFLARE_API_TOKEN"`
	AccountEnv string   `json:"CLOUDFLARE_ACCOUNT_ID"`
	CertEnv    string   `json:"SSL_CERT_FILE"`
	ConnectTo  string   `json:"CFST_CONNECT_TO"`
}

func runEmulate(cmd *cobra.Command, app *App, opts *emulateOptions) error {
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

	info := describeEmulator(srv, caFile)
	if err := writeEmulatorInfo(app.Streams.Out, opts.infoFile, info); err != nil {
		return err
	}
	fmt.Fprintf(app.Streams.Err, "emulator listening on %s (team %s); Ctrl-C stops it\n",
		info.EdgeAddr, info.TeamDomain)
	<-cmd.Context().Done()
	fmt.Fprintln(app.Streams.Err, "emulator: finishing requests in flight")
	return nil
}

func loadWorld(path string) (*emulator.World, error) {
	if path == "" {
		return emulator.DefaultWorld(), nil
	}
	world, err := emulator.LoadWorld(path)
	if err != nil {
		return nil, usageError("fix the world file; 'cfst emulate --help' shows the format", "%s", err)
	}
	return world, nil
}

// caFilePath returns where to write the CA and a function that removes what it created.
func caFilePath(path string) (string, func(), error) {
	if path != "" {
		return path, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "cfst-emulator-")
	if err != nil {
		return "", nil, fmt.Errorf("create a directory for the CA file: %w", err)
	}
	return filepath.Join(dir, "ca.pem"), func() { os.RemoveAll(dir) }, nil
}

func describeEmulator(srv *emulator.Server, caFile string) emulatorInfo {
	return emulatorInfo{
		APIURL:     srv.URL,
		AccountID:  srv.AccountID(),
		APIToken:   srv.APIToken(),
		EdgeAddr:   srv.Addr(),
		CAFile:     caFile,
		TeamDomain: srv.TeamDomain(),
		Hostnames:  srv.Hostnames(),
		BaseURLEnv: srv.URL,
		TokenEnv:   srv.APIToken(),
		AccountEnv: srv.AccountID(),
		CertEnv:    caFile,
		ConnectTo:  "::" + srv.Addr(),
	}
}

// writeEmulatorInfo prints the environment as shell lines and writes the JSON file.
func writeEmulatorInfo(out io.Writer, infoFile string, info emulatorInfo) error {
	for _, kv := range [][2]string{
		{"CLOUDFLARE_BASE_URL", info.BaseURLEnv},
		{"CLOUDFLARE_API_TOKEN", info.TokenEnv},
		{"CLOUDFLARE_ACCOUNT_ID", info.AccountEnv},
		{"SSL_CERT_FILE", info.CertEnv},
		{"CFST_CONNECT_TO", info.ConnectTo},
	} {
		fmt.Fprintf(out, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if infoFile == "" {
		return nil
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(infoFile, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write info file: %w", err)
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
