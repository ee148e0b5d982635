package dotenv_test

import (
	"fmt"
	"os"

	"github.com/cfst/cfst/internal/dotenv"
	"github.com/cfst/cfst/internal/secret"
)

// Example rotates the credentials in a .env file: the comment, the export prefix and the
// other variables stay as they were, and the new secret is quoted for bash.
func Example() {
	envFile, err := dotenv.Parse(".env", []byte(
		"# deploy bot\nexport CF_SERVICE_TOKEN_CLIENT_ID=old.access # rotated 2026-01\nLOG=debug\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	keys, err := dotenv.KeysFor("")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = envFile.SetCredentials(keys, dotenv.Credentials{
		ClientID:     "new.access",
		ClientSecret: secret.New("it's $ecret"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(envFile.Bytes())
	// Output:
	// # deploy bot
	// export CF_SERVICE_TOKEN_CLIENT_ID=new.access # rotated 2026-01
	// LOG=debug
	// CF_SERVICE_TOKEN_CLIENT_SECRET='it'\''s $ecret'
}
