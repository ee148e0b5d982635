package filewatch_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cfst/cfst/internal/filewatch"
)

func Example() {
	dir, err := os.MkdirTemp("", "filewatch")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	envFile := filepath.Join(dir, ".env")

	watch := filewatch.New(envFile) // poll Changed every few seconds in real use
	fmt.Println(watch.Changed())
	if err := os.WriteFile(envFile, []byte("KEY=value\n"), 0o600); err != nil {
		panic(err)
	}
	fmt.Println(watch.Changed())
	fmt.Println(watch.Changed())
	// Output:
	// false
	// true
	// false
}
