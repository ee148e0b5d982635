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

API access (never taken from a flag, so it stays out of process listings):
  CLOUDFLARE_API_TOKEN    API token with the Access permissions the command needs
  CLOUDFLARE_ACCOUNT_ID   account of the service tokens (--account); or --zone ID
  CLOUDFLARE_BASE_URL     API base URL, default https://api.cloudflare.com/client/v4

Service-token credentials, written by 'cfst create' and 'cfst rotate', read by the rest:
  CF_SERVICE_TOKEN_CLIENT_ID       client id (ends in .access)
  CF_SERVICE_TOKEN_CLIENT_SECRET   client secret
  With --prefix P the names are P_CLIENT_ID and P_CLIENT_SECRET, so one .env can hold
  several tokens: --prefix CI gives CI_CLIENT_ID and CI_CLIENT_SECRET.

Connections:
  SSL_CERT_FILE     CA bundle to trust instead of the system's (also --cacert)
  CFST_CONNECT_TO   curl-style HOST1:PORT1:HOST2:PORT2 mappings, comma-separated; an
                    empty HOST1 maps every host (e.g. ::127.0.0.1:8443 for the emulator)
  NO_COLOR          disable colours
  CFST_DEBUG        same as --verbose

.env files written by cfst are replaced atomically with mode 0600, keep every other line
and comment, and must be ignored by git (--gitignore adds the entry).
`
