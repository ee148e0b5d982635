// Command cfst manages Cloudflare Access service tokens and tests the services behind them.
package main

import (
	"os"

	"github.com/cfst/cfst/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
