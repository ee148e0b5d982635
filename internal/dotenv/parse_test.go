package dotenv

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// parseCases are valid files and the values bash gives their keys. expands marks a file
// whose value bash would expand ($HOME) where Get keeps the text.
var parseCases = []struct {
	name    string
	input   string
	want    map[string]string
	expands bool
}{
	{"empty file", "", map[string]string{}, false},
	{"plain", "KEY=value\n", map[string]string{"KEY": "value"}, false},
	{"no final newline", "# c\n\n  \nKEY=1", map[string]string{"KEY": "1"}, false},
	{"export", "export KEY=v\n  export\tOTHER=w\n", map[string]string{"KEY": "v", "OTHER": "w"},
		false},
	{"key named export", "export=1\n", map[string]string{"export": "1"}, false},
	{"indented", "\t KEY=v\n", map[string]string{"KEY": "v"}, false},
	{"double quoted escapes", `KEY="a \"q\" \\ \$ \` + "`" + ` \n"` + "\n",
		map[string]string{"KEY": `a "q" \ $ ` + "` \\n"}, false},
	{"double quoted backslash-newline", "KEY=\"ab\\\ncd\"\n", map[string]string{"KEY": "abcd"},
		false},
	{"double quoted multi-line", "KEY=\"one\ntwo # not a comment\n\"\nB=2\n",
		map[string]string{"KEY": "one\ntwo # not a comment\n", "B": "2"}, false},
	{"single quoted keeps backslashes", `KEY='a\b\'` + "\n", map[string]string{"KEY": `a\b\`},
		false},
	{"single quoted multi-line", "KEY='l1\n\nl3'\n", map[string]string{"KEY": "l1\n\nl3"}, false},
	{"escaped single quote", `KEY='it'\''s'` + "\n", map[string]string{"KEY": "it's"}, false},
	{"concatenated segments", `KEY=a'b c'"d e"f` + "\n", map[string]string{"KEY": "ab cd ef"},
		false},
	{"trailing comment", "KEY=value # note\nQ='x' #n\n", map[string]string{"KEY": "value", "Q": "x"},
		false},
	{"hash inside word", "KEY=val#ue\nH=#x\n", map[string]string{"KEY": "val#ue", "H": "#x"}, false},
	{"empty values", "A=\nB= # c\nC=''\nD=\"\"\n",
		map[string]string{"A": "", "B": "", "C": "", "D": ""}, false},
	{"unquoted escapes", "KEY=a\\ b\\'c\n", map[string]string{"KEY": "a b'c"}, false},
	{"unquoted continuation", "KEY=ab\\\ncd\nB=1\n", map[string]string{"KEY": "abcd", "B": "1"},
		false},
	{"last one wins", "K=1\nK=2\n", map[string]string{"K": "2"}, false},
	{"carriage return is data", "KEY=a\r\n", map[string]string{"KEY": "a\r"}, false},
	{"unicode", "KEY=héllo🔑\n", map[string]string{"KEY": "héllo🔑"}, false},
	{"dollar kept as written", "KEY=$HOME\nQ=\"$HOME\"\n",
		map[string]string{"KEY": "$HOME", "Q": "$HOME"}, true},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(".env", []byte(tc.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := string(f.Bytes()); got != tc.input {
				t.Errorf("Bytes() = %q, want the input %q", got, tc.input)
			}
			got := map[string]string{}
			for _, key := range f.Keys() {
				got[key], _ = f.Get(key)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("values = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseKeysInOrder(t *testing.T) {
	f, err := Parse(".env", []byte("B=1\n# A=0\nA=2\nB=3\nexport C=4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Keys(), []string{"B", "A", "C"}; !slices.Equal(got, want) {
		t.Errorf("Keys() = %q, want %q", got, want)
	}
	if _, ok := f.Get("MISSING"); ok {
		t.Error("Get found a missing key")
	}
}

// The inputs hold SECRET so the test can check that no error repeats a line's content.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, input string
		line        int
		problem     string
	}{
		{"unterminated single", "A=1\nKEY='SECRET\n", 2, "unterminated quote"},
		{"unterminated double", "A=1\n\nKEY=\"SECRET\n\nmore\n", 3, "unterminated quote"},
		{"backslash ends double", "KEY=\"SECRET\\", 1, "unterminated quote"},
		{"bare text", "SECRET\n", 1, "expected KEY=value"},
		{"pasted secret with symbols", "A=1\ncfast_SECRET-x\n", 2, "expected KEY=value"},
		{"spaces around =", "KEY = SECRET\n", 1, "expected KEY=value"},
		{"export without value", "export SECRET\n", 1, "expected KEY=value"},
		{"digit first", "1KEY=SECRET\n", 1, "expected KEY=value"},
		{"space in value", "KEY=SECRET more\n", 1, "unexpected text"},
		{"space after =", "KEY= SECRET\n", 1, "unexpected text"},
		{"text after quote", "KEY='a' SECRET\n", 1, "unexpected text"},
		{"semicolon", "KEY=SECRET;x\n", 1, "metacharacter"},
		{"pipe after continuation", "KEY=a\\\nSECRET|x\n", 2, "metacharacter"},
		{"backslash at end", "KEY=SECRET\\", 1, "backslash at end of file"},
		{"continuation at end", "A=1\nKEY=SECRET\\\n", 2, "line continuation at end of file"},
		{"NUL byte", "A=1\nKEY=SEC\x00RET\n", 2, "NUL byte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("prod.env", []byte(tc.input))
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Parse error = %v, want a *SyntaxError", err)
			}
			if syntaxErr.Line != tc.line || !strings.Contains(syntaxErr.Problem, tc.problem) {
				t.Errorf("got line %d %q, want line %d %q",
					syntaxErr.Line, syntaxErr.Problem, tc.line, tc.problem)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "prod.env line ") || strings.Contains(msg, "SECRET") {
				t.Errorf("error %q must start with the file and line and hide the content", msg)
			}
		})
	}
}
