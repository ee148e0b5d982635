package dotenv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sourceInBash sources file in bash with set -a and returns the values of keys, read back
// NUL-separated (no value holds a NUL). Only the file path and the key names are passed as
// arguments, never a value.
func sourceInBash(t *testing.T, file, locale string, keys []string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is required for this test: %v", err)
	}
	const script = `set -a; source "$1" || exit 99; shift; for k; do printf '%s\0' "${!k}"; done`
	cmd := exec.Command(bash, append([]string{"-c", script, "bash", file}, keys...)...)
	cmd.Env = []string{"LC_ALL=" + locale}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("bash failed: %v\n%s", err, stderr.Bytes())
	}
	values := strings.Split(string(out), "\x00")
	return values[:len(values)-1]
}

// checkBashAgrees writes values under K0, K1... into a file with comments around, and
// checks that bash reads every one back byte for byte.
func checkBashAgrees(t *testing.T, values []string) {
	t.Helper()
	envFile := mustParse(t, "# written by the bash test\nexport K0=placeholder # kept\n\n")
	keys := make([]string, len(values))
	for i, value := range values {
		keys[i] = "K" + strconv.Itoa(i)
		if err := envFile.Set(keys[i], value); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, envFile.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, locale := range []string{"C", "C.UTF-8"} {
		got := sourceInBash(t, path, locale, keys)
		if len(got) != len(values) {
			t.Fatalf("LC_ALL=%s: bash returned %d values, want %d", locale, len(got), len(values))
		}
		for i, want := range values {
			if got[i] != want {
				t.Errorf("LC_ALL=%s: bash read %q, stored %q", locale, got[i], want)
			}
		}
	}
}

func TestBashReadsNastyValues(t *testing.T) {
	for _, value := range nastyValues {
		t.Run(fmt.Sprintf("%q", value), func(t *testing.T) {
			envFile := mustParse(t, "")
			if err := envFile.Set("KEY", value); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), ".env")
			if err := os.WriteFile(path, envFile.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "-c", `set -a; source "$1"; printf %s "$KEY"`, "bash", path)
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			if string(got) != value {
				t.Errorf("bash read %q, stored %q", got, value)
			}
		})
	}
}

// TestBashReadsGeneratedValues runs bash over a few hundred values built by a generator
// with a fixed seed from the characters that matter to quoting, plus the values of any
// inputs the fuzzers stored under testdata/fuzz (they store the ones that failed).
func TestBashReadsGeneratedValues(t *testing.T) {
	values := generateValues(rand.New(rand.NewPCG(1, 2)), 400)
	for _, target := range []string{"FuzzSet", "FuzzBashReadsValue"} {
		values = append(values, corpusValues(t, filepath.Join("testdata", "fuzz", target))...)
	}
	checkBashAgrees(t, values)
}

var valuePieces = []string{
	"'", `"`, "$", "`", `\`, "#", " ", "\t", "\n", "!", "~", "*", "?", "[", "]", "{", "}",
	";", "&", "|", "(", ")", "<", ">", "=", ":", "\r", "é", "🔑", "$(", "${", `'\''`,
	"a", "Z", "0", "_", "-", ".", "/", "@", "+", "%", ",",
}

func generateValues(rng *rand.Rand, n int) []string {
	values := make([]string, n)
	for i := range values {
		var value strings.Builder
		for range rng.IntN(24) {
			if rng.IntN(8) == 0 {
				value.WriteByte(byte(1 + rng.IntN(255))) // any byte but NUL
			} else {
				value.WriteString(valuePieces[rng.IntN(len(valuePieces))])
			}
		}
		values[i] = value.String()
	}
	return values
}

// corpusValues reads the string arguments of the stored fuzz corpus files in dir.
func corpusValues(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(dir, entry.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			quoted, ok := strings.CutPrefix(line, "string(")
			if !ok {
				continue
			}
			value, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
			if err != nil {
				t.Fatalf("corpus file %s: %v", entry.Name(), err)
			}
			if !strings.Contains(value, "\x00") {
				values = append(values, value)
			}
		}
	}
	return values
}

// TestParseMatchesBash checks that Get agrees with bash on the parser's table, except
// where bash expands text that Get returns as written.
func TestParseMatchesBash(t *testing.T) {
	for _, tc := range parseCases {
		if tc.expands || len(tc.want) == 0 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			if err := os.WriteFile(path, []byte(tc.input), 0o600); err != nil {
				t.Fatal(err)
			}
			envFile := mustParse(t, tc.input)
			keys := envFile.Keys()
			for i, got := range sourceInBash(t, path, "C.UTF-8", keys) {
				if want, _ := envFile.Get(keys[i]); got != want {
					t.Errorf("%s: bash read %q, Get gives %q", keys[i], got, want)
				}
			}
		})
	}
}

// FuzzBashReadsValue checks values against real bash. It is slow (a bash process per
// input), so run it on purpose: go test -run '^$' -fuzz FuzzBashReadsValue.
func FuzzBashReadsValue(f *testing.F) {
	for _, value := range nastyValues {
		f.Add(value)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !strings.Contains(value, "\x00") {
			checkBashAgrees(t, []string{value})
		}
	})
}
