package dotenv

import (
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name, input, key, value, want string
	}{
		{"in place keeps export, comment and neighbours",
			"# token\nexport A=old # rotated\nB=2\n", "A", "new value",
			"# token\nexport A='new value' # rotated\nB=2\n"},
		{"simple value stays bare", "A=\"old\"\n", "A", "id-1.access", "A=id-1.access\n"},
		{"quote inside value", "A='x'\n", "A", "it's", "A='it'\\''s'\n"},
		{"empty value", "A=old # c\n", "A", "", "A= # c\n"},
		{"multi-line old value", "A='x\ny'\nB=2\n", "A", "z", "A=z\nB=2\n"},
		{"continued old value", "A=x\\\ny # c\nB=2\n", "A", "z", "A=z # c\nB=2\n"},
		{"every duplicate", "A=1\nB=2\n  A=3\n", "A", "9", "A=9\nB=2\n  A=9\n"},
		{"last line without newline", "B=2\nA=1", "A", "2", "B=2\nA=2"},
		{"append", "A=1\n", "B", "x y", "A=1\nB='x y'\n"},
		{"append after missing newline", "# end", "B", "x", "# end\nB=x\n"},
		{"append to empty file", "", "B", "x", "B=x\n"},
		{"newline in value", "A=1\n", "A", "l1\nl2", "A='l1\nl2'\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.input)
			if err := f.Set(tc.key, tc.value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got := string(f.Bytes()); got != tc.want {
				t.Errorf("Bytes() = %q, want %q", got, tc.want)
			}
			if got, _ := mustParse(t, string(f.Bytes())).Get(tc.key); got != tc.value {
				t.Errorf("after re-parsing, Get = %q, want %q", got, tc.value)
			}
		})
	}
}

func TestSetRefuses(t *testing.T) {
	const input = "A=1\n"
	tests := []struct{ name, key, value, want string }{
		{"NUL in value", "A", "x\x00y", "NUL byte"},
		{"empty key", "", "x", "invalid key"},
		{"key with dash", "A-B", "x", "invalid key"},
		{"key with digit first", "1A", "x", "invalid key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, input)
			err := f.Set(tc.key, tc.value)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Set error = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "x\x00y") {
				t.Errorf("error repeats the value: %q", err)
			}
			if got := string(f.Bytes()); got != input {
				t.Errorf("refused Set changed the file to %q", got)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name, input, key string
		deleted          bool
		want             string
	}{
		{"only the key's lines", "# c\nA=1 # x\nB=2\nexport A='m\nl'\n\nC=3", "A", true,
			"# c\nB=2\n\nC=3"},
		{"last line without newline", "A=1\nB=2", "B", true, "A=1\n"},
		{"absent key", "A=1\n# B=2\n", "B", false, "A=1\n# B=2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, tc.input)
			if got := f.Delete(tc.key); got != tc.deleted {
				t.Errorf("Delete = %v, want %v", got, tc.deleted)
			}
			if got := string(f.Bytes()); got != tc.want {
				t.Errorf("Bytes() = %q, want %q", got, tc.want)
			}
		})
	}
}

func mustParse(t testing.TB, input string) *File {
	t.Helper()
	f, err := Parse(".env", []byte(input))
	if err != nil {
		t.Fatalf("Parse(%q): %v", input, err)
	}
	return f
}
