package cli

import "github.com/spf13/cobra"

// helpTopics are the pages of `cfst help TOPIC` that are not commands.
func helpTopics() []*cobra.Command {
	return []*cobra.Command{
		{Use: "environment", Short: "Settings, credentials and the variables cfst reads",
			Long: environmentHelp},
		{Use: "exit-codes", Short: "What each exit code means", Long: exitCodesHelp},
	}
}

const environmentHelp = `cfst resolves each setting from, in order: its flag, the environment, then the .env
file of the working directory (--env-file for another).

API access (the token is never taken from a flag, so it stays out of process listings):
  CLOUDFLARE_API_TOKEN    API token with the Access permissions the command needs:
                          "Access: Service Tokens Read" to list and show, "... Write" to
                          create, refresh, rotate, disable, enable and delete
  CLOUDFLARE_ACCOUNT_ID   account of the service tokens (--account ID)
  CLOUDFLARE_ZONE_ID      zone of zone-scoped tokens (--zone ID), used only when no
                          account is set; --zone on the command line overrides an account
                          from the environment or .env. refresh and rotate need an account.
  CLOUDFLARE_BASE_URL     API base URL, default https://api.cloudflare.com/client/v4
  --timeout               bounds each API operation, retries included (default 30s)

Service-token credentials, written by 'cfst create' and 'cfst rotate', read by the rest:
  CF_SERVICE_TOKEN_CLIENT_ID       client id (ends in .access)
  CF_SERVICE_TOKEN_CLIENT_SECRET   client secret
  With --prefix P the names are P_CLIENT_ID and P_CLIENT_SECRET, upper-cased, so one .env
  can hold several tokens: --prefix ci (or CI_) gives CI_CLIENT_ID and CI_CLIENT_SECRET.
  Commands that present the token take the pair from the environment when either
  variable is set there, else from the .env file; a pair is never mixed across the two.
  'cfst list' marks (*) every token whose client id a *_CLIENT_ID variable of .env holds,
  and 'cfst delete' removes every such pair.

Connections:
  SSL_CERT_FILE     CA bundle trusted besides the system's, for the API and services
                    (commands that reach services also take --cacert)
  CFST_CONNECT_TO   curl-style HOST1:PORT1:HOST2:PORT2 mappings, comma-separated; an
                    empty HOST1 maps every host (e.g. ::127.0.0.1:8443 for the emulator);
                    it applies to the API too; --connect-to rules come first
  NO_COLOR          disable colours
  CFST_DEBUG        any value but 0 or false: same as --verbose (HTTP exchanges on
                    stderr, credentials redacted, bodies never shown)

Writing .env: the file is replaced atomically with mode 0600 (a looser mode is
tightened and reported), every other line and comment is kept, and:
  - cfst refuses a .env file that git tracks or would not ignore, unless you pass
    --gitignore (adds it to the .gitignore beside it) or --allow-unignored;
  - create never replaces credentials under the prefix without --force; rotate replaces
    those of the token it rotates, fills an empty prefix, and refuses another token's
    credentials without --force;
  - if the token exists but .env cannot be written, the secret is saved to a 0600 file
    in $XDG_CONFIG_HOME/cfst/recovered (default ~/.config/cfst/recovered; on macOS
    ~/Library/Application Support/cfst/recovered), or shown on the terminal if that
    fails too; cfst says where and exits 10.
`
