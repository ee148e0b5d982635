package cli

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// demoLifecycle is the token-lifecycle step of `cfst demo`, for demo.go to call with an
// App whose settings point at the demo's emulator and whose EnvFile lies in the demo's
// temporary directory. It creates a token, shows the .env file it wrote (mode shown,
// secret masked), lists the tokens, rotates the new one with a one-hour grace period and
// deletes it, printing each step as the command a user would type, then its output.
func demoLifecycle(ctx context.Context, app *App) error {
	const name = "demo-ci-runner"
	steps := []struct {
		command string
		run     func() error
	}{
		{"cfst create " + name + " --duration 30d", func() error {
			return runCreate(ctx, app, &createOptions{Name: name, Output: formatText,
				Lifetime: tokenLifetime{Length: 30 * day}})
		}},
		{"cat " + app.envFilePath() + "   # secret masked here; cfst never prints it",
			app.printMaskedEnv},
		{"cfst list", func() error { return runList(ctx, app, &listOptions{Output: formatText}) }},
		{"cfst rotate " + name + " --grace 1h", func() error {
			return runRotate(ctx, app, &rotateOptions{Token: name, GraceFor: time.Hour,
				Output: formatText})
		}},
		{"cfst delete " + name + " --yes", func() error {
			return runDelete(ctx, app, &deleteOptions{Token: name, Yes: true})
		}},
	}
	for _, step := range steps {
		fmt.Fprintf(app.Streams.Out, "\n$ %s\n", step.command)
		if err := step.run(); err != nil {
			return err
		}
	}
	return nil
}

// printMaskedEnv prints the .env file's mode and assignments, every *_CLIENT_SECRET value
// masked down to its first six characters and its length.
func (app *App) printMaskedEnv() error {
	file, err := app.loadEnvFile()
	if err != nil {
		return err
	}
	fmt.Fprintf(app.Streams.Out, "# %s, mode %04o\n", file.Path(), file.Mode())
	for _, key := range file.Keys() {
		value, _ := file.Get(key)
		if strings.HasSuffix(key, "_CLIENT_SECRET") {
			value = maskSecret(value)
		}
		fmt.Fprintf(app.Streams.Out, "%s=%s\n", key, value)
	}
	return nil
}

// maskSecret keeps the first six characters of a secret, enough to tell a cfast_ secret
// from a legacy one, and replaces the rest with its length.
func maskSecret(value string) string {
	length := utf8.RuneCountInString(value)
	if length <= 12 {
		return fmt.Sprintf("[%d characters, hidden]", length)
	}
	return fmt.Sprintf("%s… [%d characters, hidden]", string([]rune(value)[:6]), length)
}
