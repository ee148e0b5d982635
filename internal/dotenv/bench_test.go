package dotenv

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func benchmarkFile() []byte {
	var content strings.Builder
	for i := range 500 {
		fmt.Fprintf(&content, "# setting %d\nexport KEY_%d='value %d with spaces' # note\n", i, i, i)
	}
	return []byte(content.String())
}

func BenchmarkParse(b *testing.B) {
	data := benchmarkFile()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(".env", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetAndBytes(b *testing.B) {
	envFile := mustParse(b, string(benchmarkFile()))
	for b.Loop() {
		if err := envFile.Set("KEY_250", "it's a new $ecret"); err != nil {
			b.Fatal(err)
		}
		envFile.Bytes()
	}
}

func BenchmarkWriteAtomic(b *testing.B) {
	path := filepath.Join(b.TempDir(), ".env")
	data := benchmarkFile()
	for b.Loop() {
		if _, err := WriteAtomic(path, data); err != nil {
			b.Fatal(err)
		}
	}
}
