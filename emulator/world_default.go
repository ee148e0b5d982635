package emulator

import (
	_ "embed"
	"fmt"
	"slices"
)

//go:embed worlds/default.yaml
var defaultWorldYAML []byte

// DefaultWorld returns a fresh copy of the default world (worlds/default.yaml): the
// account of the operator how-to, with the team "demo" and the services pihole, jaeger,
// langfuse, ha, sprinkler, code and webhook at <service>.example.com. Most admit any valid
// service token; code admits people only, langfuse's backend is down, sprinkler's tunnel
// is down, and webhook answers 401 instead of a login redirect. Its API token, with every
// permission, is the demo value "cfst-emulator-demo-api-token-not-a-secret".
func DefaultWorld() *World {
	w, err := ParseWorld("worlds/default.yaml", defaultWorldYAML)
	if err != nil {
		panic(fmt.Sprintf("emulator: the embedded default world is invalid: %v", err))
	}
	return w
}

// DefaultWorldYAML returns the text of the default world, a commented starting point for
// a world file of one's own.
func DefaultWorldYAML() []byte { return slices.Clone(defaultWorldYAML) }
