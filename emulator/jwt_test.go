package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fetchedKeys is /cdn-cgi/access/certs as a client reads it.
type fetchedKeys struct {
	Keys []struct {
		KID string `json:"kid"`
		KTY string `json:"kty"`
		Alg string `json:"alg"`
		E   string `json:"e"`
		N   string `json:"n"`
	} `json:"keys"`
	PublicCert struct {
		KID  string `json:"kid"`
		Cert string `json:"cert"`
	} `json:"public_cert"`
	PublicCerts []struct {
		KID  string `json:"kid"`
		Cert string `json:"cert"`
	} `json:"public_certs"`
}

// fetchTeamKeys downloads the team's keys over HTTPS, as an origin validating tokens does,
// and returns them by kid.
func fetchTeamKeys(t *testing.T, srv *Server) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := srv.Client().Get("https://" + srv.TeamDomain() + certsPath)
	if err != nil {
		t.Fatalf("fetch certs: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("certs: status %d", resp.StatusCode)
	}
	var doc fetchedKeys
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decode certs: %v", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.KTY != "RSA" || k.Alg != "RS256" {
			t.Fatalf("key %q is %s/%s, want RSA/RS256", k.KID, k.KTY, k.Alg)
		}
		keys[k.KID] = &rsa.PublicKey{N: decodeBig(t, k.N), E: int(decodeBig(t, k.E).Int64())}
	}
	if len(keys) == 0 || len(doc.PublicCerts) != len(keys) {
		t.Fatalf("certs lists %d keys and %d public certs", len(keys), len(doc.PublicCerts))
	}
	for _, c := range append(doc.PublicCerts, doc.PublicCert) {
		if certKey := parseCertKey(t, c.Cert); keys[c.KID] == nil || !keys[c.KID].Equal(certKey) {
			t.Fatalf("public cert %q does not hold the key of the same kid", c.KID)
		}
	}
	return keys
}

func decodeBig(t *testing.T, encoded string) *big.Int {
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("decode JWK number: %v", err)
	}
	return new(big.Int).SetBytes(raw)
}

func parseCertKey(t *testing.T, certPEM string) *rsa.PublicKey {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		t.Fatal("public cert is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse public cert: %v", err)
	}
	return cert.PublicKey.(*rsa.PublicKey)
}

// verifyAppToken checks an application token against the team's published keys, as
// Cloudflare tells origins to, and returns its claims.
func verifyAppToken(t *testing.T, srv *Server, token, aud string) jwt.MapClaims {
	t.Helper()
	keys := fetchTeamKeys(t, srv)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if keys[kid] == nil {
			return nil, fmt.Errorf("kid %q is not in the certs", kid)
		}
		return keys[kid], nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(aud),
		jwt.WithIssuer("https://"+srv.TeamDomain()),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(srv.Clock().Now),
	)
	if err != nil {
		t.Fatalf("application token does not verify against the team's keys: %v", err)
	}
	return claims
}

func TestAppTokenVerifiesAgainstPublishedKeys(t *testing.T) {
	srv := startEmulator(t, &World{Team: "keys"})
	now := srv.Clock().Now()
	token, err := srv.edge.signer.appToken(srv.issuer(), "aud-1", "c1.access", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyAppToken(t, srv, token, "aud-1")
	want := map[string]any{
		"type": "app", "common_name": "c1.access", "sub": "",
		"iss": "https://keys.cloudflareaccess.com", "aud": []any{"aud-1"},
	}
	for name, value := range want {
		if fmt.Sprint(claims[name]) != fmt.Sprint(value) {
			t.Errorf("claim %s = %v, want %v", name, claims[name], value)
		}
	}
	if _, hasEmail := claims["email"]; hasEmail {
		t.Error("a service-token JWT has no email claim")
	}
	exp, _ := claims.GetExpirationTime()
	if got := exp.Sub(now.Truncate(time.Second)); got != time.Hour {
		t.Errorf("token lives %v, want 1h", got)
	}
}

func TestSignerVerify(t *testing.T) {
	sg, err := newSigner("team.cloudflareaccess.com")
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newSignerWithKey("team.cloudflareaccess.com", otherKey)
	if err != nil {
		t.Fatal(err)
	}
	const iss = "https://team.cloudflareaccess.com"
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	good, _ := sg.appToken(iss, "aud-1", "c.access", now, time.Hour)
	foreign, _ := other.appToken(iss, "aud-1", "c.access", now, time.Hour)
	tests := []struct {
		name, token, iss, aud string
		at                    time.Time
		ok                    bool
	}{
		{"valid", good, iss, "aud-1", now.Add(time.Minute), true},
		{"any audience", good, iss, "", now, true},
		{"other audience", good, iss, "aud-2", now, false},
		{"expired", good, iss, "aud-1", now.Add(2 * time.Hour), false},
		{"other issuer", good, "https://x.cloudflareaccess.com", "aud-1", now, false},
		{"other key", foreign, iss, "aud-1", now, false},
		{"garbage", "not.a.jwt", iss, "aud-1", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sg.verify(tt.token, tt.iss, tt.aud, tt.at)
			if (err == nil) != tt.ok {
				t.Fatalf("verify: err = %v, want ok = %v", err, tt.ok)
			}
		})
	}
}
