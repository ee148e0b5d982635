package dotenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cfst/cfst/internal/secret"
)

func TestKeysFor(t *testing.T) {
	tests := []struct {
		prefix, id, secret string
	}{
		{"", "CF_SERVICE_TOKEN_CLIENT_ID", "CF_SERVICE_TOKEN_CLIENT_SECRET"},
		{"CI", "CI_CLIENT_ID", "CI_CLIENT_SECRET"},
		{"ci", "CI_CLIENT_ID", "CI_CLIENT_SECRET"},
		{"CI_", "CI_CLIENT_ID", "CI_CLIENT_SECRET"},
		{"my_app2", "MY_APP2_CLIENT_ID", "MY_APP2_CLIENT_SECRET"},
		{"_", "__CLIENT_ID", "__CLIENT_SECRET"},
	}
	for _, tc := range tests {
		got, err := KeysFor(tc.prefix)
		if want := (Keys{tc.id, tc.secret}); err != nil || got != want {
			t.Errorf("KeysFor(%q) = %+v, %v; want %+v", tc.prefix, got, err, want)
		}
	}
	for _, bad := range []string{"1CI", "C-I", "C I", "ci.prod", "é", "CI\n"} {
		if _, err := KeysFor(bad); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("KeysFor(%q) error = %v, want invalid prefix", bad, err)
		}
	}
}

func TestCredentials(t *testing.T) {
	const canary = "cfast_CANARYcanaryCANARY"
	f := mustParse(t, "CI_CLIENT_ID=abc.access\nCI_CLIENT_SECRET='"+canary+"'\nEMPTY_CLIENT_ID=x\n")
	keys, _ := KeysFor("ci")
	creds, err := f.Credentials(keys)
	if err != nil {
		t.Fatal(err)
	}
	if creds.ClientID != "abc.access" || creds.ClientSecret.Reveal() != canary {
		t.Errorf("Credentials = %q, %q", creds.ClientID, creds.ClientSecret.Reveal())
	}
	if printed := fmt.Sprintf("%v %+v", creds, creds); strings.Contains(printed, "CANARY") {
		t.Errorf("credentials print their secret: %s", printed)
	}

	for prefix, missing := range map[string]string{
		"":      "CF_SERVICE_TOKEN_CLIENT_ID and CF_SERVICE_TOKEN_CLIENT_SECRET",
		"EMPTY": "EMPTY_CLIENT_SECRET",
	} {
		keys, _ := KeysFor(prefix)
		_, err := f.Credentials(keys)
		if !errors.Is(err, ErrNotSet) || !strings.HasSuffix(err.Error(), ".env: "+missing) {
			t.Errorf("prefix %q: error = %v, want ErrNotSet naming %s", prefix, err, missing)
		}
	}
}

func TestSetCredentials(t *testing.T) {
	const input = "# bot\nexport CF_SERVICE_TOKEN_CLIENT_SECRET=old # rotated\nOTHER=1\n"
	f := mustParse(t, input)
	creds := Credentials{ClientID: "new.access", ClientSecret: secret.New("n'ew $ecret")}
	if err := f.SetCredentials(DefaultKeys, creds); err != nil {
		t.Fatal(err)
	}
	want := "# bot\nexport CF_SERVICE_TOKEN_CLIENT_SECRET='n'\\''ew $ecret' # rotated\nOTHER=1\n" +
		"CF_SERVICE_TOKEN_CLIENT_ID=new.access\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("Bytes() = %q, want %q", got, want)
	}
	got, err := f.Credentials(DefaultKeys)
	if err != nil || !got.ClientSecret.Equal(creds.ClientSecret) {
		t.Errorf("read back %v, %v", got, err)
	}

	if !f.DeleteCredentials(DefaultKeys) || f.DeleteCredentials(DefaultKeys) {
		t.Error("DeleteCredentials should report true once, then false")
	}
	if got := string(f.Bytes()); got != "# bot\nOTHER=1\n" {
		t.Errorf("after DeleteCredentials: %q", got)
	}
}

func TestSetCredentialsRefusesBadValues(t *testing.T) {
	const input = "CF_SERVICE_TOKEN_CLIENT_ID=old\nCF_SERVICE_TOKEN_CLIENT_SECRET=old\n"
	for _, creds := range []Credentials{
		{ClientID: "new", ClientSecret: secret.New("bad\x00secret")},
		{ClientID: "new", ClientSecret: secret.Secret{}},
		{ClientID: "", ClientSecret: secret.New("s")},
	} {
		f := mustParse(t, input)
		err := f.SetCredentials(DefaultKeys, creds)
		if err == nil || strings.Contains(err.Error(), "secret\x00") {
			t.Errorf("SetCredentials error = %v, want a refusal without the value", err)
		}
		if got := string(f.Bytes()); got != input {
			t.Errorf("refused SetCredentials changed the file: %q", got)
		}
	}
}
