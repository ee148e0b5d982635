package cloudflare_test

import (
	"context"
	"fmt"

	"github.com/cfst/cfst/emulator"
	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/secret"
)

// Example creates a token on the emulator and shows what a failed lookup tells the user.
func Example() {
	srv, err := emulator.Start(emulator.Config{World: emulator.DefaultWorld()})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	client, err := cloudflare.New(cloudflare.Config{
		APIToken:   secret.New(srv.APIToken()),
		AccountID:  srv.AccountID(),
		BaseURL:    srv.URL,
		HTTPClient: srv.Client(),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	created, err := client.CreateToken(ctx, "ci", "720h")
	if err != nil {
		panic(err)
	}
	fmt.Println(created.Name, created.Duration, created.ClientSecret)

	_, err = client.ResolveToken(ctx, "deploy")
	fmt.Println(err)
	fmt.Println("kind:", cloudflare.KindOf(err))
	fmt.Println("hint:", cloudflare.HintOf(err))
	// Output:
	// ci 720h [redacted]
	// find service token: no service token is named "deploy"
	// kind: not_found
	// hint: run `cfst list` to see the service tokens
}
