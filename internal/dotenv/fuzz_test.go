package dotenv

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// nastyValues are values that break naive quoting; they seed the fuzzers and the bash test.
var nastyValues = []string{
	"", "plain", "id.access", "with space", "tab\there", "new\nline", "trailing\n", "\n",
	"'", "''", "it's", `"`, `say "hi"`, `\`, `\\`, `back\slash`, `ends\`, "$HOME", "${X}",
	"$(id)", "`id`", "#", "# not a comment", "a #b", "!", "!!", "~", "~/x", "a:~/x", "*",
	"?", "[a]", "{a,b}", ";", "&", "|", "<>", "()", "a=b", "\r", "\r\n", "é", "🔑",
	"\xff\xfe", "-n", "--", " leading", "trailing ", "'\\''", `"'"'`, "\\\n", "\\'",
}

func fuzzSeedFiles() []string {
	seeds := []string{
		"# comment\n\nexport A=1 # note\nB='x\ny'\nC=\"q\\\"\"\n",
		"A=1", "A=a\\\nb\n", "  export\tA=x'y'\"z\"\n", "A=\r\n",
	}
	for _, tc := range parseCases {
		seeds = append(seeds, tc.input)
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeedFiles() {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		envFile, err := Parse(".env", data)
		if err != nil {
			return
		}
		if got := envFile.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("Bytes() = %q, want the input %q", got, data)
		}
		again, err := Parse(".env", envFile.Bytes())
		if err != nil {
			t.Fatalf("re-parse failed: %v", err)
		}
		for _, key := range envFile.Keys() {
			want, _ := envFile.Get(key)
			if got, _ := again.Get(key); got != want {
				t.Fatalf("re-parsed %s = %q, want %q", key, got, want)
			}
		}
	})
}

func FuzzSet(f *testing.F) {
	for i, seed := range fuzzSeedFiles() {
		f.Add([]byte(seed), uint8(i), nastyValues[i%len(nastyValues)])
	}
	for i, value := range nastyValues {
		f.Add([]byte("# c\nA=1\nB=2"), uint8(i%3), value)
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8, value string) {
		envFile, err := Parse(".env", data)
		if err != nil || strings.IndexByte(value, 0) >= 0 {
			return
		}
		key := "NEW_KEY"
		if keys := envFile.Keys(); int(pick) < len(keys) {
			key = keys[pick]
		}
		checkSet(t, envFile, key, value)
		checkDelete(t, mustParse(t, string(data)), key)
	})
}

// checkSet checks that after Set the file re-parses, gives back value, and keeps every
// other line byte for byte (the last one may gain a newline when a key is appended).
func checkSet(t *testing.T, envFile *File, key, value string) {
	t.Helper()
	before := slices.Clone(envFile.lines)
	_, existed := envFile.Get(key)
	if err := envFile.Set(key, value); err != nil {
		t.Fatalf("Set(%q, %q): %v", key, value, err)
	}
	after, err := Parse(".env", envFile.Bytes())
	if err != nil {
		t.Fatalf("Set(%q, %q) made the file unparsable: %v\n%q", key, value, err,
			envFile.Bytes())
	}
	if got, _ := after.Get(key); got != value {
		t.Fatalf("after Set, Get(%q) = %q, want %q", key, got, value)
	}
	wantLen := len(before)
	if !existed {
		wantLen++
		if wantLen > 1 && !strings.HasSuffix(before[wantLen-2].raw, "\n") {
			before[wantLen-2].raw += "\n"
		}
	}
	if len(after.lines) != wantLen {
		t.Fatalf("after Set: %d lines, want %d", len(after.lines), wantLen)
	}
	for i, old := range before {
		if old.key != key && after.lines[i].raw != old.raw {
			t.Fatalf("line %d changed from %q to %q", i+1, old.raw, after.lines[i].raw)
		}
	}
}

// checkDelete checks that Delete removes the key and keeps every other line in order.
func checkDelete(t *testing.T, envFile *File, key string) {
	t.Helper()
	var want strings.Builder
	for _, l := range envFile.lines {
		if l.key != key {
			want.WriteString(l.raw)
		}
	}
	envFile.Delete(key)
	if got := string(envFile.Bytes()); got != want.String() {
		t.Fatalf("after Delete: %q, want %q", got, want.String())
	}
	if _, ok := mustParse(t, want.String()).Get(key); ok {
		t.Fatalf("key %q survived Delete", key)
	}
}

func TestSetProperties(t *testing.T) {
	for _, seed := range fuzzSeedFiles() {
		for _, value := range nastyValues {
			envFile := mustParse(t, seed)
			key := "NEW_KEY"
			if keys := envFile.Keys(); len(keys) > 0 {
				key = keys[len(value)%len(keys)]
			}
			checkSet(t, envFile, key, value)
		}
	}
}
